"""Storage contract: the run-scoped part of langgraph's checkpointer as graphport uses it."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from graphport.models import uuid7
from graphport.storage.base import Storage


class State(TypedDict):
    items: Annotated[list[str], operator.add]


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
    thread_id, other = uuid7(), uuid7()
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
