"""Rows of threads and runs as records, and the thread locking rule, for every flow."""

from __future__ import annotations

from typing import Any

from graphport.models import Run, Thread
from graphport.storage.db import Db, Row

RUN_COLUMNS = (
    "run_id, thread_id, assistant_id, status, metadata, kwargs, multitask_strategy, "
    "created_at, updated_at"
)
THREAD_COLUMNS = (
    'thread_id, status, metadata, config, "values", interrupts, error, created_at, updated_at, '
    "state_updated_at"
)


def run_of(db: Db, row: Row) -> Run:
    return {
        "run_id": row[0],
        "thread_id": row[1],
        "assistant_id": row[2],
        "metadata": db.from_json(row[4]),
        "status": row[3],
        "kwargs": db.from_json(row[5]),
        "multitask_strategy": row[6],
        "created_at": db.from_ts(row[7]),
        "updated_at": db.from_ts(row[8]),
        "langsmith_session_name": None,
    }


def thread_of(db: Db, row: Row) -> Thread:
    thread: Thread = {
        "thread_id": row[0],
        "status": row[1],
        "metadata": db.from_json(row[2]),
        "config": db.from_json(row[3]),
        "created_at": db.from_ts(row[7]),
        "updated_at": db.from_ts(row[8]),
        "state_updated_at": db.from_ts(row[9]),
        "values": db.from_json(row[4]),
    }
    if row[5] is not None:  # a run has finished on this thread
        thread["error"] = db.from_json(row[6])
        thread["interrupts"] = db.from_json(row[5])
    return thread


async def lock_thread(db: Db, thread_id: str) -> Thread | None:
    """Read and lock a thread's row for this transaction; None if absent.

    The locking rule (postgres/connection.py): a transaction that reads or changes a thread's
    runs in a way that matters for "at most one running run per thread" locks the thread's row
    first, and only then reads the runs, in a new statement."""
    row = await db.one(
        f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?{db.for_no_key_update}",
        (thread_id,),
    )
    return thread_of(db, row) if row else None


async def thread_busy(db: Db, thread_id: str) -> bool:
    """Whether the thread has a pending or running run (call with the thread locked)."""
    row = await db.one(
        "SELECT 1 FROM runs WHERE thread_id = ? AND status IN ('pending', 'running') LIMIT 1",
        (thread_id,),
    )
    return row is not None


def owner_silent(db: Db, table: str, stale_after: float) -> tuple[str, list[Any]]:
    """A condition (and its arguments): the `worker_id` of a row of `table` names no process
    that heartbeat in the last `stale_after` seconds (by `Db.heartbeat_fresh`'s clock)."""
    fresh, args = db.heartbeat_fresh(stale_after)
    return (
        f"NOT EXISTS (SELECT 1 FROM workers w WHERE w.worker_id = {table}.worker_id AND w.{fresh})",
        args,
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch (SQLite's json_patch): objects merge recursively, a null
    removes the key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged
