"""Storage contract: thread searches, updates, state and TTLs. Every backend must pass these."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from graphport import errors
from graphport.models import THREAD_SORT_FIELDS, Thread, iso, uuid7
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


async def three_threads(storage: Storage) -> list[Thread]:
    """Threads whose ids, creation times, update times and statuses sort in different orders
    (two share a status, so ties are broken by thread_id); one time is a whole second."""
    base = float(int(time.time()))
    fields = [(0.0, 5.0, "idle"), (1.5, 4.0, "busy"), (3.0, 6.25, "idle")]
    threads = []
    for created, updated, status in fields:
        thread = idle_thread(
            created_at=iso(base + created), updated_at=iso(base + updated), status=status
        )
        await storage.create_thread(thread, if_exists="raise", ttl=None)
        threads.append(thread)
    return threads


def sort_key(field: str) -> Callable[[Thread], tuple[Any, str]]:
    def key(thread: Thread) -> tuple[Any, str]:
        value: Any = thread[field]  # type: ignore[literal-required]
        if field.endswith("_at"):
            value = datetime.fromisoformat(value)
        return value, thread["thread_id"]

    return key


async def test_search_threads_sorts_by_every_field_either_way(storage: Storage) -> None:
    """search_threads sorts by each THREAD_SORT_FIELDS key, asc or desc (by instant for the
    times), ties broken by thread_id in the same order; newest created first by default."""
    threads = await three_threads(storage)
    ids = [t["thread_id"] for t in threads]
    for field in sorted(THREAD_SORT_FIELDS):
        for order in ("asc", "desc"):
            found, total = await storage.search_threads(ids=ids, sort_by=field, sort_order=order)
            expected = sorted(threads, key=sort_key(field), reverse=order == "desc")
            assert [t["thread_id"] for t in found] == [t["thread_id"] for t in expected], (
                field,
                order,
            )
            assert total == 3
    found, _ = await storage.search_threads()
    assert [t["thread_id"] for t in found] == ids[::-1]


async def test_search_threads_refuses_an_unknown_sort(storage: Storage) -> None:
    """A sort key or order outside THREAD_SORT_FIELDS / asc, desc is refused by the storage
    itself (the names go into SQL text), on every backend alike."""
    for sort_by, sort_order in (("created_at; DROP TABLE threads", "desc"), ("status", "up")):
        with pytest.raises(errors.ValidationFailed):
            await storage.search_threads(sort_by=sort_by, sort_order=sort_order)
    await storage.search_threads()  # and the table is still there


async def test_search_threads_filters_by_status_and_ids_and_pages(storage: Storage) -> None:
    """status and ids narrow the search (an unknown id is no match); limit and offset page
    it while the total counts every match."""
    a, b, c = await three_threads(storage)
    found, total = await storage.search_threads(status="idle", sort_order="asc")
    assert ([t["thread_id"] for t in found], total) == ([a["thread_id"], c["thread_id"]], 2)
    found, total = await storage.search_threads(ids=[b["thread_id"], uuid7()])
    assert ([t["thread_id"] for t in found], total) == ([b["thread_id"]], 1)
    found, total = await storage.search_threads(ids=[a["thread_id"], b["thread_id"]], status="busy")
    assert ([t["thread_id"] for t in found], total) == ([b["thread_id"]], 1)
    found, total = await storage.search_threads(limit=1, offset=1, sort_order="asc")
    assert ([t["thread_id"] for t in found], total) == ([b["thread_id"]], 3)
    found, total = await storage.search_threads(limit=2, offset=3)
    assert (found, total) == ([], 3)
    assert await storage.search_threads(status="error") == ([], 0)


async def test_set_thread_state_records_state_error_and_merges_metadata(
    storage: Storage,
) -> None:
    """set_thread_state stores status, values, interrupts and error, merges metadata in and
    stamps state_updated_at; a None status leaves the status as it is."""
    thread = idle_thread()
    await storage.create_thread(thread, if_exists="raise", ttl=None)
    interrupts = {"task": [{"value": "ask", "id": "i1"}]}
    await storage.set_thread_state(
        thread["thread_id"],
        status="interrupted",
        values={"v": [1, 2]},
        interrupts=interrupts,
        error={"error": "ValueError", "message": "bad"},
        metadata={"n": 2, "tag": "x"},
    )
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None
    assert (got["status"], got["values"], got["interrupts"], got["error"]) == (
        "interrupted", {"v": [1, 2]}, interrupts, {"error": "ValueError", "message": "bad"}
    )  # fmt: skip
    assert got["metadata"] == {"owner": "a", "n": 2, "tag": "x"}
    stamped = datetime.fromisoformat(got["state_updated_at"])
    assert stamped >= datetime.fromisoformat(thread["state_updated_at"])
    await storage.set_thread_state(thread["thread_id"], status=None, values=None, interrupts={})
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "interrupted"
    assert (got["values"], got["interrupts"], got["error"]) == (None, {}, None)
    assert got["metadata"] == {"owner": "a", "n": 2, "tag": "x"}


async def test_set_thread_state_keeps_a_thread_with_a_run_in_flight_busy(
    storage: Storage,
) -> None:
    thread = idle_thread(status="busy")
    run = make_run(thread["thread_id"])
    await storage.create_run(run, thread, claim=False)
    await storage.set_thread_state(
        thread["thread_id"], status="idle", values={"v": 1}, interrupts={}
    )
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "busy" and got["values"] == {"v": 1}
    assert await storage.cancel_pending_run(run["run_id"], delete=False, result=b"")
    await storage.set_thread_state(
        thread["thread_id"], status="idle", values={"v": 1}, interrupts={}
    )
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "idle"


async def test_update_thread_without_a_ttl_keeps_the_current_one(storage: Storage) -> None:
    now = time.time()
    thread = idle_thread()
    await storage.create_thread(thread, if_exists="raise", ttl={"strategy": "delete", "ttl": 1})
    await storage.update_thread(thread["thread_id"], metadata={"n": 3}, ttl=None)
    assert await storage.expired_threads(now + 61, 10) == [(thread["thread_id"], "delete")]


async def test_delete_thread_takes_its_runs_and_answers_whether_it_existed(
    storage: Storage,
) -> None:
    """delete_thread removes the thread and its runs (others' are kept); False once gone."""
    thread, other = idle_thread(status="busy"), idle_thread(status="busy")
    runs = [make_run(thread["thread_id"]), make_run(thread["thread_id"])]
    await storage.create_run(runs[0], thread, claim=True)
    await storage.create_run(runs[1], None, claim=False)
    kept = make_run(other["thread_id"])
    await storage.create_run(kept, other, claim=False)
    assert await storage.delete_thread(thread["thread_id"]) is True
    assert await storage.get_thread(thread["thread_id"]) is None
    assert [await storage.get_run_thread(r["run_id"]) for r in runs] == [None, None]
    assert await storage.inflight_runs(thread["thread_id"]) == []
    assert await storage.get_run_thread(kept["run_id"]) == other["thread_id"]
    assert await storage.delete_thread(thread["thread_id"]) is False
    assert await storage.delete_thread(uuid7()) is False
