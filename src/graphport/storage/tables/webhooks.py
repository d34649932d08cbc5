"""Webhook deliveries (an outbox: `webhooks`, one row per run) and their attempts
(`webhook_attempts`). A delivery is made by the process whose `worker_id` it holds."""

from __future__ import annotations

from typing import Any

from graphport.storage.base import PendingWebhook, WebhookAttempt
from graphport.storage.db import Db
from graphport.storage.tables.flows import Flows
from graphport.storage.tables.rows import owner_silent

_ATTEMPT_KEYS = ("attempt", "url", "at", "status_code", "error", "duration_ms")


async def _take_pending(
    db: Db, worker_id: str, shared: bool, stale_after: float
) -> list[PendingWebhook]:
    # Only deliveries no live process is making (a process alone on its database: all of them,
    # at start). One UPDATE takes each for one process: PostgreSQL re-checks its condition on a
    # row another process took meanwhile.
    mine, args = "status = 'pending'", [worker_id]
    if shared:
        silent, silent_args = owner_silent(db, "webhooks", stale_after)
        mine += f" AND {silent}"
        args += silent_args
    rows = await db.all(
        f"UPDATE webhooks SET worker_id = ? WHERE {mine}"
        " RETURNING run_id, thread_id, url, payload, attempts, next_attempt",
        args,
    )
    return sorted((PendingWebhook(*row) for row in rows), key=lambda w: w.next_attempt)


async def _record(db: Db, a: WebhookAttempt, outcome: str, next_attempt: float | None) -> None:
    await db.execute(
        "INSERT INTO webhook_attempts (run_id, attempt, url, at, status_code, error,"
        " duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (run_id, attempt) DO UPDATE SET url = excluded.url,"
        " at = excluded.at, status_code = excluded.status_code, error = excluded.error,"
        " duration_ms = excluded.duration_ms",
        (a.run_id, a.attempt, a.url, db.ts(a.at), a.status_code, db.text(a.error), a.duration_ms),
    )
    await db.execute(
        "UPDATE webhooks SET status = ?, attempts = ?, next_attempt = ?, updated_at = ?"
        " WHERE run_id = ?",
        (outcome, a.attempt, next_attempt or 0, db.ts(a.at), a.run_id),
    )


async def _get(db: Db, run_id: str) -> dict[str, Any] | None:
    row = await db.one(
        "SELECT run_id, thread_id, url, status, created_at, updated_at FROM webhooks"
        " WHERE run_id = ?",
        (run_id,),
    )
    if row is None:
        return None
    attempts = await db.all(
        f"SELECT {', '.join(_ATTEMPT_KEYS)} FROM webhook_attempts WHERE run_id = ?"
        " ORDER BY attempt",
        (run_id,),
    )
    return {
        "run_id": row[0],
        "thread_id": row[1],
        "url": row[2],
        "status": row[3],
        "created_at": db.from_ts(row[4]),
        "updated_at": db.from_ts(row[5]),
        "attempts": [
            {
                **dict(zip(_ATTEMPT_KEYS, a, strict=True)),
                "at": db.from_ts(a[2]),
                "error": db.from_text(a[4]),
            }
            for a in attempts
        ],
    }


class WebhookTables(Flows):
    """The webhook methods of `Storage`, on any backend."""

    # Set by the storage class (see `Storage`).
    shared: bool
    worker_id: str
    stale_after: float

    async def pending_webhooks(self) -> list[PendingWebhook]:
        return await self._flow(_take_pending, self.worker_id, self.shared, self.stale_after)

    async def record_webhook_attempt(
        self, attempt: WebhookAttempt, outcome: str, next_attempt: float | None
    ) -> None:
        await self._flow(_record, attempt, outcome, next_attempt)

    async def get_webhook(self, run_id: str) -> dict[str, Any] | None:
        return await self._flow(_get, run_id)
