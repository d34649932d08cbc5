"""Storage contract: webhook deliveries, feedback and the server secret."""

from __future__ import annotations

import asyncio
import time

import pytest

from graphport import errors
from graphport.models import iso, uuid7
from graphport.storage.base import Capability, PendingWebhook, RunFinish, Storage, WebhookAttempt
from tests.contract.test_storage_runs import finish, make_run, make_thread


async def finished_with_webhook(storage: Storage) -> RunFinish:
    thread = make_thread()
    run = make_run(thread["thread_id"])
    await storage.create_run(run, thread, claim=True)
    done = finish(run)
    done.webhook = ("http://127.0.0.1:9/hook", b'{"run_id":"r"}')
    await storage.finish_run(done)
    return done


def attempt(run_id: str, n: int, status_code: int | None, error: str | None) -> WebhookAttempt:
    return WebhookAttempt(run_id, n, "http://127.0.0.1:9/hook", iso(), status_code, error, 1.5)


async def test_a_finished_runs_webhook_waits_for_delivery(storage: Storage) -> None:
    """finish_run queues the webhook: get_webhook shows it pending with no attempt."""
    done = await finished_with_webhook(storage)
    hook = await storage.get_webhook(done.run_id)
    assert hook is not None
    assert {k: hook[k] for k in ("run_id", "thread_id", "url", "status", "attempts")} == {
        "run_id": done.run_id,
        "thread_id": done.thread_id,
        "url": "http://127.0.0.1:9/hook",
        "status": "pending",
        "attempts": [],
    }
    assert hook["created_at"] and hook["updated_at"]
    assert await storage.get_webhook(uuid7()) is None


async def test_attempts_are_recorded_until_delivered(storage: Storage) -> None:
    """Each attempt is stored in order; a pending outcome keeps the delivery pending with its
    next attempt time, a delivered one takes it out of pending_webhooks."""
    done = await finished_with_webhook(storage)
    later = time.time() + 30
    await storage.record_webhook_attempt(
        attempt(done.run_id, 1, None, "refused\0"), "pending", later
    )
    pending = await storage.pending_webhooks()
    assert pending == [
        PendingWebhook(done.run_id, done.thread_id, "http://127.0.0.1:9/hook",
                       b'{"run_id":"r"}', 1, later)
    ]  # fmt: skip
    await storage.record_webhook_attempt(attempt(done.run_id, 2, 200, None), "delivered", None)
    assert await storage.pending_webhooks() == []
    hook = await storage.get_webhook(done.run_id)
    assert hook is not None and hook["status"] == "delivered"
    seen = [
        (a["attempt"], a["status_code"], a["error"], a["duration_ms"]) for a in hook["attempts"]
    ]
    assert seen == [(1, None, "refused\0", 1.5), (2, 200, None, 1.5)]


async def test_pending_webhooks_are_soonest_first_and_a_failed_one_leaves(
    storage: Storage,
) -> None:
    """pending_webhooks orders deliveries by their next attempt; a `failed` outcome ends the
    delivery (no longer pending) and keeps its attempts."""
    first, second = await finished_with_webhook(storage), await finished_with_webhook(storage)
    now = time.time()
    await storage.record_webhook_attempt(attempt(first.run_id, 1, 500, None), "pending", now + 60)
    await storage.record_webhook_attempt(attempt(second.run_id, 1, 502, None), "pending", now + 9)
    pending = await storage.pending_webhooks()
    assert [(w.run_id, w.attempts) for w in pending] == [(second.run_id, 1), (first.run_id, 1)]
    await storage.record_webhook_attempt(attempt(second.run_id, 2, None, "timeout"), "failed", None)
    assert [w.run_id for w in await storage.pending_webhooks()] == [first.run_id]
    hook = await storage.get_webhook(second.run_id)
    assert hook is not None and hook["status"] == "failed"
    assert [(a["attempt"], a["status_code"], a["error"]) for a in hook["attempts"]] == [
        (1, 502, None), (2, None, "timeout")
    ]  # fmt: skip
    assert {a["url"] for a in hook["attempts"]} == {"http://127.0.0.1:9/hook"}


@pytest.mark.capability(Capability.SEVERAL_PROCESSES, offered=False)
async def test_one_process_takes_every_pending_delivery(storage: Storage) -> None:
    """With one process, every pending delivery is its own (at start: a restart's leftovers)."""
    done = await finished_with_webhook(storage)
    assert [w.run_id for w in await storage.pending_webhooks()] == [done.run_id]


@pytest.mark.capability(Capability.SEVERAL_PROCESSES)
async def test_a_live_process_keeps_its_deliveries(storage: Storage) -> None:
    """A delivery belongs to the process that queued it while it heartbeats; once it is
    silent, pending_webhooks hands the delivery to the caller."""
    await storage.heartbeat()
    done = await finished_with_webhook(storage)
    assert await storage.pending_webhooks() == []
    await asyncio.sleep(0.05)
    storage.stale_after = 0.01
    assert [w.run_id for w in await storage.pending_webhooks()] == [done.run_id]
    storage.stale_after = 60  # now this live process's own: not handed out again
    await storage.heartbeat()
    assert await storage.pending_webhooks() == []


async def test_ping_answers_on_an_open_backend_and_raises_once_closed(storage: Storage) -> None:
    await storage.ping()
    await storage.close()
    with pytest.raises(Exception):  # noqa: B017 (each driver raises its own closed-connection error)
        await storage.ping()
    await storage.open()
    await storage.ping()


async def test_server_secret_is_made_once(storage: Storage) -> None:
    secret = await storage.server_secret()
    assert isinstance(secret, bytes) and len(secret) == 32
    assert await storage.server_secret() == secret


@pytest.mark.capability(Capability.DURABLE)
async def test_server_secret_survives_a_restart(storage: Storage) -> None:
    secret = await storage.server_secret()
    await storage.close()
    await storage.open()
    assert await storage.server_secret() == secret


def feedback(run_id: str, key: str, **fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "feedback_id": uuid7(),
        "run_id": run_id,
        "key": key,
        "score": 1.0,
        "value": {"stars": 5},
        "comment": "good\0",
        "created_at": iso(),
    }
    record.update(fields)
    return record


async def test_feedback_round_trips_oldest_first(storage: Storage) -> None:
    run_id, other = uuid7(), uuid7()
    first = feedback(run_id, "quality")
    second = feedback(run_id, "speed", score=None, value=None, comment=None)
    await storage.add_feedback(first)
    await asyncio.sleep(0.002)
    second["created_at"] = iso()
    await storage.add_feedback(second)
    await storage.add_feedback(feedback(other, "quality"))
    assert await storage.list_feedback(run_id) == [first, second]
    assert await storage.list_feedback(uuid7()) == []


async def test_feedback_once_per_run_and_key(storage: Storage) -> None:
    run_id = uuid7()
    await storage.add_feedback(feedback(run_id, "quality"))
    with pytest.raises(errors.Conflict, match="Feedback for this key was already given"):
        await storage.add_feedback(feedback(run_id, "quality", score=0.0))
    assert [f["score"] for f in await storage.list_feedback(run_id)] == [1.0]
