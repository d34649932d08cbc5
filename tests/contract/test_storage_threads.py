"""Storage contract: thread updates and TTLs. Every backend must pass these."""

from __future__ import annotations

import time

from graphport.models import Thread, iso, uuid7
from graphport.storage.base import Storage
from tests.contract.test_storage_runs import make_run


def idle_thread(**fields: object) -> Thread:
    now = iso()
    thread: Thread = {
        "thread_id": uuid7(),
        "status": "idle",
        "metadata": {"owner": "a", "n": 1},
        "config": {},
        "created_at": now,
        "updated_at": now,
        "state_updated_at": now,
        "values": None,
    }
    thread.update(fields)  # type: ignore[typeddict-item]
    return thread


async def test_update_thread_merges_metadata(storage: Storage) -> None:
    """update_thread merges top-level metadata keys, stamps updated_at and returns the thread."""
    thread = idle_thread()
    await storage.create_thread(thread, if_exists="raise", ttl=None)
    updated = await storage.update_thread(
        thread["thread_id"], metadata={"n": 2, "tag": "x"}, ttl=None
    )
    assert updated is not None and updated["metadata"] == {"owner": "a", "n": 2, "tag": "x"}
    assert updated["updated_at"] >= thread["updated_at"]
    stored = await storage.get_thread(thread["thread_id"])
    assert stored is not None and stored["metadata"] == updated["metadata"]
    assert stored["updated_at"] == updated["updated_at"]


async def test_update_thread_unknown(storage: Storage) -> None:
    assert await storage.update_thread(uuid7(), metadata={"a": 1}, ttl=None) is None


async def test_expired_threads_follow_their_ttl(storage: Storage) -> None:
    """A thread expires `ttl` minutes after it is created; update_thread with a TTL restarts
    the clock; threads without a TTL never expire."""
    now = time.time()
    short, other = idle_thread(), idle_thread()
    await storage.create_thread(short, if_exists="raise", ttl={"strategy": "delete", "ttl": 1})
    await storage.create_thread(other, if_exists="raise", ttl=None)
    assert await storage.expired_threads(now, 10) == []
    assert await storage.expired_threads(now + 61, 10) == [(short["thread_id"], "delete")]
    await storage.update_thread(
        short["thread_id"], metadata=None, ttl={"strategy": "keep_latest", "ttl": 10}
    )
    assert await storage.expired_threads(now + 61, 10) == []
    assert await storage.expired_threads(now + 601, 10) == [(short["thread_id"], "keep_latest")]
    await storage.renew_ttl(short["thread_id"], now + 601)  # 10 minutes from then
    assert await storage.expired_threads(now + 1200, 10) == []
    assert await storage.expired_threads(now + 1202, 10) == [(short["thread_id"], "keep_latest")]
    await storage.renew_ttl(other["thread_id"], now)  # no TTL: nothing to renew
    assert await storage.expired_threads(now + 10**9, 10) == [(short["thread_id"], "keep_latest")]


async def test_default_ttl_applies_to_new_kept_threads(storage: Storage) -> None:
    """`default_ttl` is the TTL of a thread created without one, by create_thread or by a
    run; a thread's own TTL wins; a temporary (stateless) thread never gets it."""
    storage.default_ttl = {"strategy": "keep_latest", "ttl": 1}
    try:
        plain, own = idle_thread(), idle_thread()
        await storage.create_thread(plain, if_exists="raise", ttl=None)
        await storage.create_thread(own, if_exists="raise", ttl={"strategy": "delete", "ttl": 5})
        by_run, temporary = idle_thread(status="busy"), idle_thread(status="busy", temporary=True)
        for thread in (by_run, temporary):
            run = make_run(thread["thread_id"])
            await storage.create_run(run, thread, claim=False)
            # the thread leaves busy (a temporary one is deleted)
            assert await storage.cancel_pending_run(run["run_id"], delete=True, result=b"")
    finally:
        storage.default_ttl = None
    soon = time.time() + 120
    expired = await storage.expired_threads(soon, 10)
    assert sorted(expired) == sorted(
        [(plain["thread_id"], "keep_latest"), (by_run["thread_id"], "keep_latest")]
    )
    assert await storage.get_thread(temporary["thread_id"]) is None  # went with its run
    assert (own["thread_id"], "delete") in await storage.expired_threads(soon + 300, 10)


async def test_expired_threads_skip_busy_ones_and_are_oldest_first(storage: Storage) -> None:
    """A busy thread is not expired until it is idle again; the oldest expiry comes first and
    `limit` bounds the answer."""
    busy = idle_thread(status="busy")
    first, second = idle_thread(), idle_thread()
    await storage.create_thread(first, if_exists="raise", ttl={"strategy": "delete", "ttl": 1})
    await storage.create_thread(busy, if_exists="raise", ttl={"strategy": "delete", "ttl": 1})
    await storage.create_thread(second, if_exists="raise", ttl={"strategy": "delete", "ttl": 2})
    later = time.time() + 3600
    assert [t for t, _ in await storage.expired_threads(later, 10)] == [
        first["thread_id"], second["thread_id"]
    ]  # fmt: skip
    assert await storage.expired_threads(later, 1) == [(first["thread_id"], "delete")]
    await storage.set_thread_state(busy["thread_id"], status="idle", values=None, interrupts={})
    assert (busy["thread_id"], "delete") in await storage.expired_threads(later, 10)
