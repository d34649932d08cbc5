"""Storage contract: every JSON value and string the API accepts round-trips exactly, U+0000
included (PostgreSQL cannot store it as is), and filters on such values still match."""

from __future__ import annotations

import time
import uuid
from typing import Any

from graphport.models import Assistant, Run, Thread, iso, uuid7
from graphport.storage.base import Storage

# U+0000, graphport's PostgreSQL escape character U+FDD0 and a backslash sequence lookalike
ODD = ["a\u0000b", "\ufdd0", "\ufdd00", "\ufdd0\u0000\ufdd0", "\\u0000", "é\u0000"]


def odd_document() -> dict[str, Any]:
    document: dict[str, Any] = {s: [s, {s: s}] for s in ODD}
    document |= {f"k{i}": s for i, s in enumerate(ODD)}
    return document | {"odd": ODD, "plain": "x", "n": 1.5, "t": True, "z": None}


async def test_thread_values_round_trip(storage: Storage) -> None:
    """Thread metadata and values keep U+0000 and any other character, in keys and values."""
    now = iso()
    thread: Thread = {
        "thread_id": uuid7(), "status": "idle", "metadata": odd_document(), "config": {},
        "created_at": now, "updated_at": now, "state_updated_at": now, "values": None,
    }  # fmt: skip
    await storage.create_thread(thread, if_exists="raise", ttl=None)
    await storage.set_thread_state(
        thread["thread_id"], status="idle", values=odd_document(), interrupts={}
    )
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None
    assert got["metadata"] == odd_document() and got["values"] == odd_document()
    for i, s in enumerate(ODD):  # (SQLite cannot filter on a key holding U+0000)
        found, total = await storage.search_threads(
            metadata={"odd": ODD, f"k{i}": s}, values={"odd": ODD}
        )
        assert [t["thread_id"] for t in found] == [thread["thread_id"]] and total == 1
    found, _ = await storage.search_threads(metadata={"odd": ODD[:-1]})
    assert found == []


async def test_run_kwargs_round_trip(storage: Storage) -> None:
    """A run's kwargs and metadata keep U+0000."""
    now = iso()
    thread: Thread = {
        "thread_id": uuid7(), "status": "busy", "metadata": {}, "config": {},
        "created_at": now, "updated_at": now, "state_updated_at": now, "values": None,
    }  # fmt: skip
    run: Run = {
        "run_id": uuid7(), "thread_id": thread["thread_id"], "assistant_id": "a",
        "metadata": odd_document(), "status": "pending", "kwargs": {"input": odd_document()},
        "multitask_strategy": "enqueue", "created_at": iso(time.time()), "updated_at": now,
        "langsmith_session_name": None,
    }  # fmt: skip
    await storage.create_run(run, thread, claim=False)
    got = await storage.get_run(thread["thread_id"], run["run_id"])
    assert got is not None
    assert got["metadata"] == odd_document() and got["kwargs"] == {"input": odd_document()}


async def test_assistant_strings_round_trip(storage: Storage) -> None:
    """Assistant names, descriptions and metadata keep U+0000; name search still matches."""
    for s in ODD:
        now = iso()
        a: Assistant = {
            "assistant_id": str(uuid.uuid4()), "graph_id": "odd", "config": {},
            "context": {s: s}, "metadata": odd_document(), "name": f"N{s}", "created_at": now,
            "updated_at": now, "version": 1, "description": s,
        }  # fmt: skip
        await storage.create_assistant(a, if_exists="raise")
        assert await storage.get_assistant(a["assistant_id"]) == a
        found, _ = await storage.search_assistants(
            graph_id="odd", name=f"n{s}", metadata={s: [s, {s: s}]}, limit=10, offset=0,
            sort_by="created_at", sort_order="desc",
        )  # fmt: skip
        assert a["assistant_id"] in [x["assistant_id"] for x in found]
