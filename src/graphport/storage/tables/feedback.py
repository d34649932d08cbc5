"""The server secret (`meta`) and the feedback records of runs (`feedback`, one per run and key)."""

from __future__ import annotations

import os
from typing import Any

from graphport import errors
from graphport.storage.db import Db
from graphport.storage.tables.flows import Flows


async def _secret(db: Db) -> bytes:
    # the first process to ask makes it; every later one (and every other process) reads it
    await db.execute(
        "INSERT INTO meta (key, value) VALUES ('secret', ?) ON CONFLICT DO NOTHING",
        (os.urandom(32),),
    )
    row = await db.one("SELECT value FROM meta WHERE key = 'secret'")
    assert row is not None
    return bytes(row[0])


async def _add(db: Db, f: dict[str, Any]) -> None:
    added = await db.count(
        "INSERT INTO feedback (feedback_id, run_id, key, score, value, comment, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            f["feedback_id"],
            f["run_id"],
            db.text(f["key"]),
            f["score"],
            db.json(f["value"]),
            db.text(f["comment"]),
            db.ts(f["created_at"]),
        ),
    )
    if not added:
        raise errors.Conflict("Feedback for this key was already given")


async def _list(db: Db, run_id: str) -> list[dict[str, Any]]:
    rows = await db.all(
        "SELECT feedback_id, run_id, key, score, value, comment, created_at FROM feedback"
        " WHERE run_id = ? ORDER BY created_at, key",
        (run_id,),
    )
    return [
        {
            "feedback_id": r[0],
            "run_id": r[1],
            "key": db.from_text(r[2]),
            "score": r[3],
            "value": db.from_json(r[4]),
            "comment": db.from_text(r[5]),
            "created_at": db.from_ts(r[6]),
        }
        for r in rows
    ]


class FeedbackTables(Flows):
    """The feedback methods of `Storage`, on any backend (`ping` is the backend's own: it
    tries the connection, not a table)."""

    async def server_secret(self) -> bytes:
        return await self._flow(_secret)

    async def add_feedback(self, feedback: dict[str, Any]) -> None:
        await self._flow(_add, feedback)

    async def list_feedback(self, run_id: str) -> list[dict[str, Any]]:
        return await self._read(_list, run_id)
