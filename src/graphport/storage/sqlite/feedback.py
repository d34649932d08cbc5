"""The server secret and feedback records in SQLite."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import orjson

from graphport import errors
from graphport.storage.sqlite.connection import SqliteBase
from graphport.storage.sqlite.rows import (
    dumps,
)


class FeedbackMixin(SqliteBase):
    # -- feedback ----------------------------------------------------------------------------

    async def ping(self) -> None:
        await self._submit(lambda conn: conn.execute("SELECT 1").fetchone())

    async def server_secret(self) -> bytes:
        def op(conn: sqlite3.Connection) -> bytes:
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (os.urandom(32),)
            )
            return bytes(conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()[0])

        return await self._submit(op)

    async def add_feedback(self, feedback: dict[str, Any]) -> None:
        f = feedback

        def op(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO feedback (feedback_id, run_id, key, score, value, comment,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        f["feedback_id"],
                        f["run_id"],
                        f["key"],
                        f["score"],
                        dumps(f["value"]),
                        f["comment"],
                        f["created_at"],
                    ),
                )
            except sqlite3.IntegrityError:
                raise errors.Conflict("Feedback for this key was already given") from None

        await self._submit(op)

    async def list_feedback(self, run_id: str) -> list[dict[str, Any]]:
        def op(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT feedback_id, run_id, key, score, value, comment, created_at FROM feedback"
                " WHERE run_id = ? ORDER BY created_at, key",
                (run_id,),
            ).fetchall()
            return [
                {
                    "feedback_id": r[0],
                    "run_id": r[1],
                    "key": r[2],
                    "score": r[3],
                    "value": orjson.loads(r[4]) if r[4] is not None else None,
                    "comment": r[5],
                    "created_at": r[6],
                }
                for r in rows
            ]

        return await self._submit(op)
