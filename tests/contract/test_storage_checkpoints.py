"""Storage contract: the run-scoped part of langgraph's checkpointer as graphport uses it."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph

from graphport.models import uuid7
from graphport.storage.base import Capability, Storage
from tests.contract.test_storage_runs import make_run
from tests.contract.test_storage_threads import idle_thread


class State(TypedDict):
    items: Annotated[list[str], operator.add]


async def new_thread(storage: Storage) -> str:
    """A thread row: the checkpointer keeps nothing for a thread without one."""
    thread = idle_thread()
    await storage.create_thread(thread, if_exists="raise", ttl=None)
    return thread["thread_id"]


def compiled(storage: Storage) -> Any:
    builder = StateGraph(State)
    builder.add_node("add", lambda state: {"items": ["x"]})
    builder.add_edge(START, "add")
    builder.add_edge("add", END)
    return builder.compile(checkpointer=storage.checkpointer)


async def test_delete_run_checkpoints_leaves_the_thread_as_before_the_run(
    storage: Storage,
) -> None:
    """Deleting a run's checkpoints (a rollback) leaves the thread's state, history and the
    other threads as they were before that run."""
    graph = compiled(storage)
    thread_id, other = await new_thread(storage), await new_thread(storage)
    first, second = uuid7(), uuid7()

    def config(tid: str, run_id: str | None = None) -> Any:
        return {"configurable": {"thread_id": tid}, "metadata": {"run_id": run_id}}

    await graph.ainvoke({"items": ["a"]}, config(thread_id, first))
    await graph.ainvoke({"items": ["a"]}, config(other, second))
    before = [c.config async for c in graph.aget_state_history(config(thread_id))]
    await graph.ainvoke({"items": ["b"]}, config(thread_id, second))
    assert (await graph.aget_state(config(thread_id))).values["items"] == ["a", "x", "b", "x"]

    await storage.delete_run_checkpoints(thread_id, second)
    assert (await graph.aget_state(config(thread_id))).values["items"] == ["a", "x"]
    after = [c async for c in graph.aget_state_history(config(thread_id))]
    assert [c.config for c in after] == before
    assert {c.metadata.get("run_id") for c in after} == {first}
    assert (await graph.aget_state(config(other))).values["items"] == ["a", "x"]
    await storage.delete_run_checkpoints(thread_id, uuid7())  # no checkpoints: nothing to do
    await graph.ainvoke({"items": ["c"]}, config(thread_id, uuid7()))  # the thread goes on
    assert (await graph.aget_state(config(thread_id))).values["items"] == ["a", "x", "c", "x"]


async def checkpoints_of(storage: Storage, thread_id: str) -> list[Any]:
    return [c async for c in storage.checkpointer.alist({"configurable": {"thread_id": thread_id}})]


@pytest.mark.capability(Capability.DURABLE)
async def test_late_writes_do_not_bring_a_deleted_thread_back(storage: Storage) -> None:
    """delete_thread removes the thread's checkpoints with its row, and a run still writing
    afterwards (cancelled, taken over) stores nothing: no checkpoint, no pending write, no row."""
    graph = compiled(storage)
    thread_id, other = await new_thread(storage), await new_thread(storage)
    for tid in (thread_id, other):
        await graph.ainvoke({"items": ["a"]}, {"configurable": {"thread_id": tid}})
    assert len(await checkpoints_of(storage, thread_id)) > 1
    assert await storage.delete_thread(thread_id)
    assert await checkpoints_of(storage, thread_id) == []

    late = {"configurable": {"thread_id": thread_id}}
    await graph.ainvoke({"items": ["late"]}, late)  # every step's checkpoint and writes
    stored = await graph.checkpointer.aput(  # type: ignore[union-attr]
        {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}},
        (await checkpoints_of(storage, other))[0].checkpoint,
        {},
        {},
    )
    await graph.checkpointer.aput_writes(stored, [("items", ["w"])], "task")  # type: ignore[union-attr]
    assert await checkpoints_of(storage, thread_id) == []
    assert (await graph.aget_state(late)).values == {}
    assert await storage.get_thread(thread_id) is None
    assert (await graph.aget_state({"configurable": {"thread_id": other}})).values == {
        "items": ["a", "x"]
    }


async def test_keep_latest_keeps_one_checkpoint_and_the_state(storage: Storage) -> None:
    """aprune(keep_latest) leaves each thread its latest checkpoint (the same state) and
    nothing older; the other threads are untouched and the thread goes on from there."""
    graph = compiled(storage)
    thread_id, other = await new_thread(storage), await new_thread(storage)
    config = {"configurable": {"thread_id": thread_id}}
    for item in ("a", "b", "c"):
        await graph.ainvoke({"items": [item]}, config)
    await graph.ainvoke({"items": ["a"]}, {"configurable": {"thread_id": other}})
    before = len(await checkpoints_of(storage, other))
    assert len(await checkpoints_of(storage, thread_id)) > 3

    await storage.checkpointer.aprune([thread_id], strategy="keep_latest")
    kept = await checkpoints_of(storage, thread_id)
    assert len(kept) == 1
    assert (await graph.aget_state(config)).values["items"] == ["a", "x", "b", "x", "c", "x"]
    assert len(await checkpoints_of(storage, other)) == before
    await graph.ainvoke({"items": ["d"]}, config)
    assert (await graph.aget_state(config)).values["items"][-2:] == ["d", "x"]


async def drop_thread_row_only(storage: Any, thread_id: str) -> None:
    """Remove the row and leave the checkpoints, as deletions did before the guard."""
    if hasattr(storage, "_submit"):  # SQLite
        await storage._submit(
            lambda conn: conn.execute("DELETE FROM threads WHERE thread_id = ?", (thread_id,))
        )
        return
    async with storage._transaction() as tx:
        await tx.execute("DELETE FROM threads WHERE thread_id = %s", (thread_id,))


async def test_a_new_thread_never_inherits_left_over_checkpoints(storage: Storage) -> None:
    """A thread created with the id of one whose checkpoints outlived its row (a deletion of
    an older version) starts empty, by create_thread and by a run creating it."""
    graph = compiled(storage)
    for via_run in (False, True):
        thread_id = await new_thread(storage)
        config = {"configurable": {"thread_id": thread_id}}
        await graph.ainvoke({"items": ["old"]}, config)
        await drop_thread_row_only(storage, thread_id)
        assert await checkpoints_of(storage, thread_id) != []  # left over
        thread = idle_thread(thread_id=thread_id)
        if via_run:
            await storage.create_run(make_run(thread_id), thread, claim=False)
        else:
            await storage.create_thread(thread, if_exists="raise", ttl=None)
        assert await checkpoints_of(storage, thread_id) == []
        assert (await graph.aget_state(config)).values == {}
