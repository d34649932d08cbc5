"""Webhook deliveries (an outbox) and their attempts in SQLite."""

from __future__ import annotations

import sqlite3
from typing import Any

from graphport.storage.base import PendingWebhook, WebhookAttempt
from graphport.storage.sqlite.connection import SqliteBase


class WebhooksMixin(SqliteBase):
    # -- webhooks ----------------------------------------------------------------------------

    async def pending_webhooks(self) -> list[PendingWebhook]:
        def op(conn: sqlite3.Connection) -> list[PendingWebhook]:
            rows = conn.execute(
                "SELECT run_id, thread_id, url, payload, attempts, next_attempt FROM webhooks"
                " WHERE status = 'pending' ORDER BY next_attempt"
            ).fetchall()
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
