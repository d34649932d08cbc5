"""Webhook deliveries (an outbox) and their attempts in PostgreSQL."""

from __future__ import annotations

from typing import Any

from graphport.storage.base import PendingWebhook, WebhookAttempt
from graphport.storage.postgres.connection import PostgresBase, owner_silent
from graphport.storage.postgres.rows import iso_of, text_in, text_out, ts


class WebhooksMixin(PostgresBase):
    # -- webhooks ----------------------------------------------------------------------------

    async def pending_webhooks(self) -> list[PendingWebhook]:
        # Only deliveries no live process is making: each is taken by one process (the
        # UPDATE re-checks its condition if another process took the row meanwhile).
        async with self._transaction(atomic=False) as tx:
            await tx.execute(
                "UPDATE webhooks SET worker_id = %(me)s WHERE status = 'pending'"
                f" AND {owner_silent('webhooks')}"
                " RETURNING run_id, thread_id, url, payload, attempts, next_attempt",
                {"me": self.worker_id, "stale": self.stale_after},
            )
            rows = sorted(await tx.fetchall(), key=lambda r: r["next_attempt"])
        keys = ("run_id", "thread_id", "url", "payload", "attempts", "next_attempt")
        return [PendingWebhook(*(r[k] for k in keys)) for r in rows]

    async def record_webhook_attempt(
        self, attempt: WebhookAttempt, outcome: str, next_attempt: float | None
    ) -> None:
        a = attempt
        async with self._transaction() as tx:
            await tx.execute(
                "INSERT INTO webhook_attempts (run_id, attempt, url, at, status_code, error,"
                " duration_ms) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (run_id, attempt) DO UPDATE SET url = excluded.url,"
                " at = excluded.at, status_code = excluded.status_code, error = excluded.error,"
                " duration_ms = excluded.duration_ms",
                (
                    a.run_id,
                    a.attempt,
                    a.url,
                    ts(a.at),
                    a.status_code,
                    text_in(a.error),
                    a.duration_ms,
                ),
            )
            await tx.execute(
                "UPDATE webhooks SET status = %s, attempts = %s, next_attempt = %s,"
                " updated_at = %s WHERE run_id = %s",
                (outcome, a.attempt, next_attempt or 0, ts(a.at), a.run_id),
            )

    async def get_webhook(self, run_id: str) -> dict[str, Any] | None:
        async with self._transaction() as tx:
            cur = await tx.execute(
                "SELECT run_id, thread_id, url, status, created_at, updated_at"
                " FROM webhooks WHERE run_id = %s",
                (run_id,),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            cur = await tx.execute(
                "SELECT attempt, url, at, status_code, error, duration_ms FROM webhook_attempts"
                " WHERE run_id = %s ORDER BY attempt",
                (run_id,),
            )
            attempts = await cur.fetchall()
        return {
            "run_id": row["run_id"],
            "thread_id": row["thread_id"],
            "url": row["url"],
            "status": row["status"],
            "created_at": iso_of(row["created_at"]),
            "updated_at": iso_of(row["updated_at"]),
            "attempts": [
                {**a, "at": iso_of(a["at"]), "error": text_out(a["error"])} for a in attempts
            ],
        }
