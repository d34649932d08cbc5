"""engine/containment.py: what graph code raises in a run's tasks stays in the run."""

from __future__ import annotations

import asyncio

import pytest

from graphport.engine import containment


class Custom(BaseException):
    pass


async def _in_task(exc: BaseException) -> BaseException | None:
    """Raise `exc` in a task created inside a run's context; what reaches the awaiting code."""

    async def node() -> None:
        raise exc

    async def run() -> BaseException | None:
        try:
            await asyncio.get_running_loop().create_task(node())
        except BaseException as caught:
            return caught
        return None

    containment.install(asyncio.get_running_loop())
    return await asyncio.get_running_loop().create_task(run(), context=containment.run_context())


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt(), Custom("x")])
def test_a_base_exception_in_a_run_task_arrives_as_graph_aborted(exc: BaseException) -> None:
    caught = asyncio.run(_in_task(exc))
    assert isinstance(caught, containment.GraphAborted)
    assert containment.unwrap(caught) is exc


def test_ordinary_exceptions_and_cancellation_pass_unchanged() -> None:
    error = ValueError("v")
    assert asyncio.run(_in_task(error)) is error
    assert isinstance(asyncio.run(_in_task(asyncio.CancelledError())), asyncio.CancelledError)


def test_tasks_outside_a_run_are_not_wrapped() -> None:
    async def main() -> object:
        containment.install(asyncio.get_running_loop())

        async def plain() -> None:
            return None

        task = asyncio.get_running_loop().create_task(plain())
        coro = task.get_coro()
        await task
        return coro

    coro = asyncio.run(main())
    assert getattr(coro, "__name__", "") == "plain"


def test_is_contained() -> None:
    assert containment.is_contained(SystemExit())
    assert containment.is_contained(KeyboardInterrupt())
    assert not containment.is_contained(RecursionError())
    assert not containment.is_contained(asyncio.CancelledError())
    assert not containment.is_contained(GeneratorExit())
