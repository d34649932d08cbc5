"""The server secret and feedback records in PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

from graphport import errors
from graphport.storage.postgres.connection import PostgresBase, wrap_errors
from graphport.storage.postgres.rows import iso_of, jsonb_or_null, text_in, text_out, ts

PING_TIMEOUT = 5.0  # seconds `/ok?check_db=1` waits for a pooled connection


class FeedbackMixin(PostgresBase):
    # -- feedback ----------------------------------------------------------------------------

    async def ping(self) -> None:
        # a health check answers within seconds: not after the pool's 30 s wait for a
        # connection while the database is unreachable
        assert self._pool is not None, "storage is not open"
        with wrap_errors():
            async with self._pool.connection(timeout=PING_TIMEOUT) as conn:
                await conn.execute("SELECT 1")

    async def server_secret(self) -> bytes:
        async with self._transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES ('secret', %s) ON CONFLICT DO NOTHING",
                (os.urandom(32),),
            )
            cur = await tx.execute("SELECT value FROM meta WHERE key = 'secret'")
            row = await cur.fetchone()
        assert row is not None
        return bytes(row["value"])

    async def add_feedback(self, feedback: dict[str, Any]) -> None:
        f = feedback
        async with self._transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO feedback (feedback_id, run_id, key, score, value, comment,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    f["feedback_id"],
                    f["run_id"],
                    text_in(f["key"]),
                    f["score"],
                    jsonb_or_null(f["value"]),
                    text_in(f["comment"]),
                    ts(f["created_at"]),
                ),
            )
            if cur.rowcount == 0:
                raise errors.Conflict("Feedback for this key was already given")

    async def list_feedback(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self._fetchall(
            "SELECT feedback_id, run_id, key, score, value, comment, created_at FROM feedback"
            " WHERE run_id = %s ORDER BY created_at, key",
            (run_id,),
        )
        return [
            {
                **r,
                "key": text_out(r["key"]),
                "comment": text_out(r["comment"]),
                "created_at": iso_of(r["created_at"]),
            }
            for r in rows
        ]
