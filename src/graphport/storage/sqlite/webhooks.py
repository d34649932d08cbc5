"""Webhook deliveries (an outbox) and their attempts in SQLite."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from graphport.storage.base import PendingWebhook, WebhookAttempt
from graphport.storage.sqlite.connection import SqliteBase, owner_silent


class WebhooksMixin(SqliteBase):
    # -- webhooks ----------------------------------------------------------------------------

    async def pending_webhooks(self) -> list[PendingWebhook]:
        # Only deliveries no live process is making (with one process: all of them, at start).
        mine = "status = 'pending'"
        args: tuple[Any, ...] = ()
        if self.shared:
            mine += owner_silent("webhooks")
            args = (time.time() - self.stale_after,)

        def op(conn: sqlite3.Connection) -> list[PendingWebhook]:
            rows = conn.execute(
                "SELECT run_id, thread_id, url, payload, attempts, next_attempt FROM webhooks"
                f" WHERE {mine} ORDER BY next_attempt",
                args,
            ).fetchall()
            conn.executemany(
                "UPDATE webhooks SET worker_id = ? WHERE run_id = ?",
                [(self.worker_id, row[0]) for row in rows],
            )
            return [PendingWebhook(*row) for row in rows]

        return await self._submit(op)

    async def record_webhook_attempt(
        self, attempt: WebhookAttempt, outcome: str, next_attempt: float | None
    ) -> None:
        a = attempt

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO webhook_attempts (run_id, attempt, url, at, status_code,"
                " error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (a.run_id, a.attempt, a.url, a.at, a.status_code, a.error, a.duration_ms),
            )
            conn.execute(
                "UPDATE webhooks SET status = ?, attempts = ?, next_attempt = ?, updated_at = ?"
                " WHERE run_id = ?",
                (outcome, a.attempt, next_attempt or 0, a.at, a.run_id),
            )

        await self._submit(op)

    async def get_webhook(self, run_id: str) -> dict[str, Any] | None:
        def op(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT run_id, thread_id, url, status, attempts, created_at, updated_at"
                " FROM webhooks WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                return None
            attempts = conn.execute(
                "SELECT attempt, url, at, status_code, error, duration_ms FROM webhook_attempts"
                " WHERE run_id = ? ORDER BY attempt",
                (run_id,),
            ).fetchall()
            keys = ("attempt", "url", "at", "status_code", "error", "duration_ms")
            return {
                "run_id": row[0],
                "thread_id": row[1],
                "url": row[2],
                "status": row[3],
                "created_at": row[5],
                "updated_at": row[6],
                "attempts": [dict(zip(keys, a, strict=True)) for a in attempts],
            }

        return await self._submit(op)
