"""The flow seam itself (storage/db.py), on every backend: a flow is all or nothing, whatever
fails in it and wherever; `count` waits for what came before it. On PostgreSQL a flow is one
pipeline from BEGIN to COMMIT that waits only where it reads (postgres/connection.py), so a
failing statement surfaces at a later wait: these tests hold it to the same rules."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest

from graphport import errors
from graphport.models import iso
from graphport.storage.base import Storage
from graphport.storage.db import Db

_INSERT = (
    "INSERT INTO threads (thread_id, status, metadata, config, temporary, created_at,"
    " updated_at, state_updated_at) VALUES (?, 'idle', ?, ?, ?, ?, ?, ?)"
)


def _row(db: Db, thread_id: str) -> tuple[Any, ...]:
    now = db.ts(iso())
    return (thread_id, db.json({}), db.json({}), False, now, now, now)


async def _run(storage: Storage, flow: Any, *args: Any) -> Any:
    return await storage._flow(flow, *args)  # type: ignore[attr-defined]


async def _insert(db: Db, thread_id: str) -> None:
    await db.execute(_INSERT, _row(db, thread_id))


async def test_a_flow_that_raises_after_its_writes_leaves_nothing(storage: Storage) -> None:
    thread_id = str(uuid.uuid4())

    async def flow(db: Db) -> None:
        await db.execute(_INSERT, _row(db, thread_id))  # not waited for on PostgreSQL
        raise ValueError("the flow's own rule failed")

    with pytest.raises(ValueError):
        await _run(storage, flow)
    assert await storage.get_thread(thread_id) is None
    await _run(storage, _insert, str(uuid.uuid4()))  # the storage still works


async def test_a_failing_statement_fails_the_whole_flow(storage: Storage) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await _run(storage, _insert, first)

    async def flow(db: Db) -> None:
        await db.execute(_INSERT, _row(db, second))
        await db.execute(_INSERT, _row(db, first))  # the id is taken
        await db.execute("UPDATE threads SET status = 'busy' WHERE thread_id = ?", (first,))

    with pytest.raises((errors.GraphportError, sqlite3.Error)):
        await _run(storage, flow)
    assert await storage.get_thread(second) is None
    kept = await storage.get_thread(first)
    assert kept is not None and kept["status"] == "idle"
    await _run(storage, _insert, str(uuid.uuid4()))


async def test_count_sees_the_statements_before_it(storage: Storage) -> None:
    thread_ids = [str(uuid.uuid4()) for _ in range(3)]

    async def flow(db: Db) -> tuple[int, int]:
        for thread_id in thread_ids:
            await db.execute(_INSERT, _row(db, thread_id))
        marks = ",".join("?" * len(thread_ids))
        changed = await db.count(
            f"UPDATE threads SET status = 'busy' WHERE thread_id IN ({marks})", thread_ids
        )
        row = await db.one(
            f"SELECT count(*) FROM threads WHERE status = 'busy' AND thread_id IN ({marks})",
            thread_ids,
        )
        assert row is not None
        return changed, row[0]

    assert await _run(storage, flow) == (3, 3)
    for thread_id in thread_ids:
        thread = await storage.get_thread(thread_id)
        assert thread is not None and thread["status"] == "busy"
