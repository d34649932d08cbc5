"""Keep what graph code raises inside its run.

asyncio lets `SystemExit` and `KeyboardInterrupt` escape a task and stop the event loop: a node
calling `sys.exit()` would take the whole server down, and the shutdown would hand its run back
to be run again (and kill the server again) at the next start. Every task created while a run
executes (the run's own and those langgraph makes for its nodes) has its coroutine wrapped, so
such an exception becomes `GraphAborted`, an ordinary `Exception` that langgraph and the
executor handle like any error in graph code; the run ends `error`. Cancellation and
`GeneratorExit` are left alone: they are how asyncio stops work, not faults.

A real signal to the server never reaches graph code as an exception (uvicorn handles it), so
it still drains the server.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Generator
from typing import Any

_IN_RUN: contextvars.ContextVar[bool] = contextvars.ContextVar("graphport_in_run", default=False)


class GraphAborted(Exception):
    """A BaseException raised by graph code, carried as an ordinary exception."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"{type(original).__name__}: {original}")
        self.original = original


# how asyncio stops work: never a fault of graph code, always passed on
PASSES_THROUGH = (asyncio.CancelledError, GeneratorExit)


def is_contained(exc: BaseException) -> bool:
    """Whether `exc` would escape ordinary error handling (and a task) and must be caught."""
    return not isinstance(exc, (Exception, *PASSES_THROUGH))


def unwrap(exc: BaseException) -> BaseException:
    """What graph code raised, under a `GraphAborted`."""
    return exc.original if isinstance(exc, GraphAborted) else exc


def run_context() -> contextvars.Context:
    """A context in which a run executes: tasks created in it are guarded."""
    context = contextvars.copy_context()
    context.run(_IN_RUN.set, True)
    return context


async def _guarded(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await coro
    except BaseException as exc:
        if is_contained(exc):
            raise GraphAborted(exc) from exc
        raise


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Guard the coroutines of tasks created in a run's context, on `loop`."""
    previous = loop.get_task_factory()

    def factory(
        loop: asyncio.AbstractEventLoop,
        coro: Generator[Any, None, Any] | Coroutine[Any, Any, Any],
        **kwargs: Any,
    ) -> asyncio.Future[Any]:
        context = kwargs.get("context")
        in_run = context.get(_IN_RUN, False) if context is not None else _IN_RUN.get()
        if in_run and asyncio.iscoroutine(coro):
            coro = _guarded(coro)
        if previous is not None:
            return previous(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
