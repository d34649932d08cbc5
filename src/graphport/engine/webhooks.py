"""Deliver a run's webhook when it ends: signed, retried, recorded, and kept across restarts.

The delivery is queued (an outbox row) in the same transaction that records the run's end, so a
crash between the two loses nothing; on start, pending deliveries are resumed. Each attempt is
stored (time, status code, error) and readable at `GET /runs/{run_id}/webhook`.

Retries: 5xx, 429, timeouts and network errors, with exponential backoff and jitter; any other
4xx is final after one attempt. Redirects are not followed blindly: a 307/308 is re-POSTed (body
intact) to its target if that target passes the URL policy; 301/302/303 end the delivery as failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import random
import re
import time
from typing import Any

import httpx

from graphport import errors, serde
from graphport.engine.webhook_policy import validate_webhook
from graphport.metrics import Metrics
from graphport.models import Run, iso, public_run
from graphport.storage.base import PendingWebhook, Storage, WebhookAttempt

log = logging.getLogger("graphport.webhooks")

SIGNATURE_HEADER = "x-graphport-signature"
_TEMPLATE = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_MAX_REDIRECTS = 3


def build_payload(
    run: Run, status: str, values: Any, error: Any, started_at: str, ended_at: str,
    allowed_fields: list[str] | None,
) -> bytes:  # fmt: skip
    """The body POSTed for a finished run (`webhook_sent_at` is added at each attempt)."""
    payload: dict[str, Any] = {**public_run(run), "status": status, "updated_at": ended_at}
    payload.update(run_started_at=started_at, run_ended_at=ended_at, values=values)
    if error is not None:
        payload["error"] = error
    if allowed_fields:
        payload = {k: v for k, v in payload.items() if k in allowed_fields}
    return serde.dumps(payload)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookSender:
    def __init__(
        self, storage: Storage, config: dict[str, Any], metrics: Metrics | None = None
    ) -> None:
        self.storage = storage
        self.metrics = metrics
        self.config = config
        self.secret = os.environ.get("GRAPHPORT_WEBHOOK_SECRET", "")
        self.max_attempts = int(os.environ.get("GRAPHPORT_WEBHOOK_MAX_ATTEMPTS", "5"))
        self.retry_base = float(os.environ.get("GRAPHPORT_WEBHOOK_RETRY_BASE", "1.0"))
        self.timeout = httpx.Timeout(30.0, connect=5.0)
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def headers(self) -> dict[str, str]:
        """Static `webhooks.headers`, with `${{ env.X }}` taken from variables with the prefix."""
        prefix = self.config.get("env_prefix", "LG_WEBHOOK_")
        out = {}
        for name, value in (self.config.get("headers") or {}).items():

            def env(match: re.Match[str]) -> str:
                var = match.group(1)
                return os.environ.get(var, "") if var.startswith(prefix) else ""

            out[str(name)] = _TEMPLATE.sub(env, str(value))
        return out

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        for pending in await self.storage.pending_webhooks():
            self.schedule(pending)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def schedule(self, pending: PendingWebhook) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, pending: PendingWebhook) -> None:
        attempt = pending.attempts
        delay = pending.next_attempt - time.time()
        while attempt < self.max_attempts:
            if delay > 0:
                await asyncio.sleep(delay)
            attempt += 1
            record, retry = await self._attempt(pending, attempt)
            if record.status_code is not None and 200 <= record.status_code < 300:
                await self.storage.record_webhook_attempt(record, "delivered", None)
                self._count("delivered")
                return
            if not retry or attempt >= self.max_attempts:
                await self.storage.record_webhook_attempt(record, "failed", None)
                self._count("failed")
                log.warning(
                    "webhook for run %s failed after %d attempt(s): %s",
                    pending.run_id, attempt, record.error or record.status_code,
                )  # fmt: skip
                return
            delay = self.retry_base * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            await self.storage.record_webhook_attempt(record, "pending", time.time() + delay)
            self._count("retried")

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.webhooks.labels(outcome).inc()

    async def _attempt(self, pending: PendingWebhook, attempt: int) -> tuple[WebhookAttempt, bool]:
        """POST once (following 307/308 within policy); return the record and whether to retry."""
        assert self._client is not None
        payload = serde.loads(pending.payload)
        payload["webhook_sent_at"] = iso()
        body = serde.dumps(payload)
        headers = {"content-type": "application/json", **self.headers()}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, int(time.time()), body)
        url, started = pending.url, time.perf_counter()
        status: int | None = None
        error: str | None = None
        retry = False
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                response = await self._client.post(url, content=body, headers=headers)
                status = response.status_code
                if status in (307, 308) and "location" in response.headers:
                    target = str(response.url.join(response.headers["location"]))
                    await validate_webhook(target, self.config)
                    url = target
                    continue
                break
            if status is not None and 300 <= status < 400:
                error = f"redirect ({status}) not followed"
            elif status is not None and (status >= 500 or status == 429):
                retry = True
        except errors.GraphportError as exc:
            error = f"redirect target refused: {exc}"
        except httpx.TimeoutException as exc:
            error, retry = f"timeout: {type(exc).__name__}", True
        except httpx.HTTPError as exc:
            error, retry = f"{type(exc).__name__}: {exc}", True
        record = WebhookAttempt(
            run_id=pending.run_id,
            attempt=attempt,
            url=url,
            at=iso(),
            status_code=status,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        return record, retry
