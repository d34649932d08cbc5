"""The SQLite file's checkpointer (storage/sqlite/saver.py): langgraph's SqliteSaver run on
graphport's connection thread. Its rows are langgraph-checkpoint-sqlite's, its sync interface
serves graph code in other threads, and a graph runs on it as on any checkpointer."""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph

from graphport.models import iso
from graphport.storage.sqlite import SqliteStorage


class State(TypedDict):
    items: Annotated[list[str], operator.add]


def _graph(checkpointer):
    builder = StateGraph(State)
    builder.add_node("a", lambda s: {"items": ["a"]})
    builder.add_node("b", lambda s: {"items": ["b"]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=checkpointer)


async def _storage_with_thread(path: Path, thread_id: str) -> SqliteStorage:
    storage = SqliteStorage(str(path))
    await storage.open()
    now = iso()
    await storage.create_thread(
        {"thread_id": thread_id, "status": "idle", "metadata": {}, "config": {},
         "created_at": now, "updated_at": now, "state_updated_at": now, "values": None},
        if_exists="raise", ttl=None,
    )  # fmt: skip  # the guard stores checkpoints only for threads with a row
    return storage


async def test_a_graph_runs_and_reads_back_its_history(tmp_path: Path):
    thread = "00000000-0000-0000-0000-00000000000a"
    storage = await _storage_with_thread(tmp_path / "s.sqlite", thread)
    try:
        graph = _graph(storage.checkpointer)
        config = {"configurable": {"thread_id": thread}}
        await graph.ainvoke({"items": ["x"]}, config)
        await graph.ainvoke({"items": ["y"]}, config)
        state = await graph.aget_state(config)
        assert state.values == {"items": ["x", "a", "b", "y", "a", "b"]}
        history = [s async for s in graph.aget_state_history(config)]
        assert len(history) == 8  # input, a, b for each run, plus each run's input step
        assert [s async for s in graph.aget_state_history(config, limit=2)] == history[:2]
    finally:
        await storage.close()


async def test_rows_read_back_with_langgraphs_own_saver(tmp_path: Path):
    thread = "00000000-0000-0000-0000-00000000000b"
    path = tmp_path / "s.sqlite"
    storage = await _storage_with_thread(path, thread)
    config = {"configurable": {"thread_id": thread}}
    try:
        await _graph(storage.checkpointer).ainvoke({"items": ["x"]}, config)
    finally:
        await storage.close()
    async with AsyncSqliteSaver.from_conn_string(str(path)) as stock:
        state = await _graph(stock).aget_state(config)
    assert state.values == {"items": ["x", "a", "b"]}


async def test_sync_calls_from_another_thread_wait_for_the_connection_thread(tmp_path: Path):
    thread = "00000000-0000-0000-0000-00000000000c"
    storage = await _storage_with_thread(tmp_path / "s.sqlite", thread)
    try:
        graph = _graph(storage.checkpointer)
        config = {"configurable": {"thread_id": thread}}
        await asyncio.to_thread(graph.invoke, {"items": ["x"]}, config)
        state = await asyncio.to_thread(graph.get_state, config)
        assert state.values == {"items": ["x", "a", "b"]}
        assert len(await asyncio.to_thread(lambda: list(graph.get_state_history(config)))) == 4
    finally:
        await storage.close()


async def test_a_sync_call_on_the_event_loop_is_refused(tmp_path: Path):
    storage = SqliteStorage(str(tmp_path / "s.sqlite"))
    await storage.open()
    try:
        with pytest.raises(asyncio.InvalidStateError, match="async interface"):
            storage.checkpointer.get_tuple({"configurable": {"thread_id": "t"}})
    finally:
        await storage.close()
