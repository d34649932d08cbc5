"""Row <-> record conversions shared by the SQLite mixins."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from graphport import serde
from graphport.models import Run, Thread, iso

RUN_COLUMNS = (
    "run_id, thread_id, assistant_id, status, metadata, kwargs, multitask_strategy, "
    "created_at, updated_at"
)
THREAD_COLUMNS = (
    'thread_id, status, metadata, config, "values", interrupts, error, created_at, updated_at, '
    "state_updated_at"
)


def dumps(value: Any) -> str:
    """JSON text; state values may hold LangChain messages and other objects (`serde`)."""
    return serde.dumps(value).decode()


def run_from_row(row: tuple[Any, ...]) -> Run:
    return {
        "run_id": row[0],
        "thread_id": row[1],
        "assistant_id": row[2],
        "metadata": orjson.loads(row[4]),
        "status": row[3],
        "kwargs": orjson.loads(row[5]),
        "multitask_strategy": row[6],
        "created_at": row[7],
        "updated_at": row[8],
        "langsmith_session_name": None,
    }


def thread_from_row(row: tuple[Any, ...]) -> Thread:
    thread: Thread = {
        "thread_id": row[0],
        "status": row[1],
        "metadata": orjson.loads(row[2]),
        "config": orjson.loads(row[3]),
        "created_at": row[7],
        "updated_at": row[8],
        "state_updated_at": row[9],
        "values": orjson.loads(row[4]) if row[4] is not None else None,
    }
    if row[5] is not None:  # a run has finished on this thread
        thread["error"] = orjson.loads(row[6]) if row[6] is not None else None
        thread["interrupts"] = orjson.loads(row[5])
    return thread


def has_live_runs(conn: sqlite3.Connection, thread_id: str) -> bool:
    """Whether the thread has a pending or running run (then it stays busy)."""
    return (
        conn.execute(
            "SELECT 1 FROM runs WHERE thread_id = ? AND status IN ('pending', 'running')",
            (thread_id,),
        ).fetchone()
        is not None
    )


def now_iso() -> str:
    return iso()
