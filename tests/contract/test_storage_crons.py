"""Storage contract: crons. Every backend must pass these."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graphport import errors
from graphport.models import iso, uuid7
from graphport.storage.base import Cron, Storage
from graphport.storage.sqlite import SqliteStorage
from tests.contract.conftest import open_postgres
from tests.contract.test_storage_assistants import make_assistant
from tests.contract.test_storage_runs import make_thread

CRON_KEYS = [
    "cron_id", "assistant_id", "thread_id", "user_id", "end_time", "schedule", "timezone",
    "payload", "next_run_date", "metadata", "on_run_completed", "enabled", "created_at",
    "updated_at",
]  # fmt: skip


def make_cron(assistant_id: str, **fields: Any) -> Cron:
    cron_id = uuid7()
    now = iso()
    record: dict[str, Any] = {
        "cron_id": cron_id,
        "assistant_id": assistant_id,
        "thread_id": None,
        "user_id": "",
        "end_time": None,
        "schedule": "* * * * *",
        "timezone": None,
        "payload": {
            "assistant_id": assistant_id,
            "input": {"x": 1},
            "config": {"configurable": {"cron_id": cron_id}},
        },
        "next_run_date": iso(time.time() + 3600),
        "metadata": {"team": "a"},
        "on_run_completed": "delete",
        "enabled": True,
        "created_at": now,
        "updated_at": now,
    }
    record.update(fields)
    return record  # type: ignore[return-value]


async def an_assistant(storage: Storage) -> str:
    assistant = make_assistant()
    await storage.create_assistant(assistant, if_exists="raise")
    return assistant["assistant_id"]


async def a_thread(storage: Storage) -> str:
    thread = make_thread()
    thread["status"] = "idle"
    await storage.create_thread(thread, if_exists="raise", ttl=None)
    return thread["thread_id"]


async def test_create_and_get_round_trip(storage: Storage) -> None:
    """A created cron is read back equal, every key in the reference's order."""
    cron = make_cron(await an_assistant(storage), end_time="2030-01-01T00:00:00+00:00")
    assert await storage.create_cron(cron) == cron
    got = await storage.get_cron(cron["cron_id"])
    assert got == cron and list(got) == CRON_KEYS
    assert await storage.get_cron(uuid7()) is None


async def test_create_needs_its_assistant_and_thread(storage: Storage) -> None:
    """create_cron raises NotFound (the reference's words) for a missing assistant or thread."""
    missing = uuid7()
    with pytest.raises(errors.NotFound, match=rf"^Assistant '{missing}' not found$"):
        await storage.create_cron(make_cron(missing))
    assistant_id, thread_id = await an_assistant(storage), uuid7()
    with pytest.raises(errors.NotFound) as caught:
        await storage.create_cron(make_cron(assistant_id, thread_id=thread_id))
    assert caught.value.detail == (
        f"Thread with ID '{thread_id}' not found. Please verify the ID is correct and the "
        "thread hasn't been deleted or expired."
    )
    assert (await storage.search_crons(assistant_id=assistant_id, limit=10))[1] == 0


async def test_search_filters_and_counts(storage: Storage) -> None:
    """search_crons filters by assistant, thread, enabled and metadata containment, and
    reports the total whatever the page."""
    a1, a2 = await an_assistant(storage), await an_assistant(storage)
    thread_id = await a_thread(storage)
    on_thread = make_cron(a1, thread_id=thread_id, on_run_completed=None)
    disabled = make_cron(a1, enabled=False, metadata={"team": "b", "nested": {"x": 1, "y": 2}})
    other = make_cron(a2)
    for cron in (on_thread, disabled, other):
        await storage.create_cron(cron)

    async def ids(**kw: Any) -> list[str]:
        found, _ = await storage.search_crons(sort_by="cron_id", sort_order="asc", **kw)
        return [c["cron_id"] for c in found]

    assert await ids(assistant_id=a1) == sorted([on_thread["cron_id"], disabled["cron_id"]])
    assert await ids(thread_id=thread_id) == [on_thread["cron_id"]]
    assert await ids(assistant_id=a1, enabled=False) == [disabled["cron_id"]]
    assert await ids(assistant_id=a1, enabled=True) == [on_thread["cron_id"]]
    assert await ids(metadata={"nested": {"x": 1}}) == [disabled["cron_id"]]
    assert await ids(metadata={"team": "a"}, assistant_id=a2) == [other["cron_id"]]
    page, total = await storage.search_crons(assistant_id=a1, limit=1, offset=1)
    assert total == 2 and len(page) == 1
    empty, total = await storage.search_crons(assistant_id=a1, limit=0)
    assert empty == [] and total == 2


async def test_search_sorts(storage: Storage) -> None:
    """search_crons sorts by any CRON_SORT_FIELDS key either way, newest first by default;
    a null end_time sorts first ascending and last descending."""
    assistant_id = await an_assistant(storage)
    soon, later = iso(time.time() + 60), iso(time.time() + 7200)
    first = make_cron(assistant_id, next_run_date=later, end_time="2031-01-01T00:00:00+00:00")
    await asyncio.sleep(0.002)
    second = make_cron(assistant_id, next_run_date=soon)
    for cron in (first, second):
        await storage.create_cron(cron)

    async def ids(**kw: Any) -> list[str]:
        found, _ = await storage.search_crons(assistant_id=assistant_id, **kw)
        return [c["cron_id"] for c in found]

    a, b = first["cron_id"], second["cron_id"]
    assert await ids() == [b, a]
    assert await ids(sort_by="created_at", sort_order="asc") == [a, b]
    assert await ids(sort_by="next_run_date", sort_order="asc") == [b, a]
    assert await ids(sort_by="next_run_date", sort_order="desc") == [a, b]
    assert await ids(sort_by="end_time", sort_order="asc") == [b, a]
    assert await ids(sort_by="end_time", sort_order="desc") == [a, b]
    with pytest.raises(errors.ValidationFailed) as caught:
        await storage.search_crons(sort_by="schedule")
    assert caught.value.detail == (
        "Invalid sort_by field: 'schedule'. Valid options are: cron_id, assistant_id, "
        "thread_id, next_run_date, end_time, created_at, updated_at"
    )


async def test_update_merges_and_keeps_what_is_not_given(storage: Storage) -> None:
    """update_cron changes only the given fields, merges metadata, merges the payload's top
    level while keeping its assistant and configurable.cron_id, and bumps updated_at."""
    assistant_id = await an_assistant(storage)
    cron = make_cron(assistant_id, end_time="2030-01-01T00:00:00+00:00")
    await storage.create_cron(cron)
    await asyncio.sleep(0.002)
    updated = await storage.update_cron(
        cron["cron_id"],
        enabled=False,
        metadata={"extra": 1},
        payload={"assistant_id": uuid7(), "input": {"x": 2}, "config": {"tags": ["t"]}},
    )
    assert updated is not None
    assert updated == await storage.get_cron(cron["cron_id"])
    assert updated["enabled"] is False and updated["metadata"] == {"team": "a", "extra": 1}
    assert updated["payload"] == {
        "assistant_id": assistant_id,
        "input": {"x": 2},
        "config": {"tags": ["t"], "configurable": {"cron_id": cron["cron_id"]}},
    }
    assert updated["updated_at"] > cron["updated_at"]
    unchanged = ("schedule", "timezone", "next_run_date", "end_time", "on_run_completed")
    assert {k: updated[k] for k in unchanged} == {k: cron[k] for k in unchanged}  # type: ignore[literal-required]

    changed = await storage.update_cron(
        cron["cron_id"],
        schedule="0 9 * * *",
        timezone="Europe/Paris",
        next_run_date="2031-01-01T08:00:00+00:00",
        clear_end_time=True,
        on_run_completed="keep",
    )
    assert changed is not None
    assert (changed["schedule"], changed["timezone"], changed["next_run_date"]) == (
        "0 9 * * *",
        "Europe/Paris",
        "2031-01-01T08:00:00+00:00",
    )
    assert changed["end_time"] is None and changed["on_run_completed"] == "keep"
    again = await storage.update_cron(cron["cron_id"], end_time="2032-01-01T00:00:00+00:00")
    assert again is not None and again["end_time"] == "2032-01-01T00:00:00+00:00"
    assert await storage.update_cron(uuid7(), enabled=True) is None


async def test_delete(storage: Storage) -> None:
    """delete_cron removes the cron once; False when there was none."""
    cron = make_cron(await an_assistant(storage))
    await storage.create_cron(cron)
    assert await storage.delete_cron(cron["cron_id"]) is True
    assert await storage.get_cron(cron["cron_id"]) is None
    assert await storage.delete_cron(cron["cron_id"]) is False


async def test_crons_go_with_their_thread_and_assistant(storage: Storage) -> None:
    """Deleting a thread deletes its crons; deleting an assistant deletes its crons."""
    assistant_id, thread_id = await an_assistant(storage), await a_thread(storage)
    on_thread = make_cron(assistant_id, thread_id=thread_id, on_run_completed=None)
    stateless = make_cron(assistant_id)
    for cron in (on_thread, stateless):
        await storage.create_cron(cron)
    await storage.delete_thread(thread_id)
    assert await storage.get_cron(on_thread["cron_id"]) is None
    assert await storage.get_cron(stateless["cron_id"]) is not None
    await storage.delete_assistant(assistant_id)
    assert await storage.get_cron(stateless["cron_id"]) is None


async def test_due_crons(storage: Storage) -> None:
    """due_crons returns the enabled crons due at `now` and not past their end time, soonest
    first, and the earliest next firing of the other live crons."""
    assistant_id = await an_assistant(storage)
    now = time.time()
    late = make_cron(assistant_id, next_run_date=iso(now - 120))
    due = make_cron(assistant_id, next_run_date=iso(now - 60))
    ended = make_cron(assistant_id, next_run_date=iso(now - 60), end_time=iso(now - 61))
    disabled = make_cron(assistant_id, next_run_date=iso(now - 60), enabled=False)
    soon = make_cron(assistant_id, next_run_date=iso(now + 30))
    disabled_sooner = make_cron(assistant_id, next_run_date=iso(now + 10), enabled=False)
    ends_before = make_cron(assistant_id, next_run_date=iso(now + 5), end_time=iso(now + 4))
    for cron in (late, due, ended, disabled, soon, disabled_sooner, ends_before):
        await storage.create_cron(cron)
    found, following = await storage.due_crons(now)
    assert [c["cron_id"] for c in found] == [late["cron_id"], due["cron_id"]]
    assert found[0] == late
    assert following == pytest.approx(now + 30, abs=1e-3)
    assert await storage.due_crons(now - 1000) == ([], pytest.approx(now - 120, abs=1e-3))


async def test_claim_is_a_compare_and_set(storage: Storage) -> None:
    """claim_cron_firing moves next_run_date on only from the value read, returns the cron as
    claimed, and leaves updated_at alone; a second claim of the same firing gets None."""
    assistant_id = await an_assistant(storage)
    due_at = iso(time.time() - 1)
    cron = make_cron(assistant_id, next_run_date=due_at)
    await storage.create_cron(cron)
    following = iso(time.time() + 59)
    claimed = await storage.claim_cron_firing(cron["cron_id"], due_at, following)
    assert claimed == {**cron, "next_run_date": following}
    assert await storage.claim_cron_firing(cron["cron_id"], due_at, iso(time.time() + 60)) is None
    assert (await storage.get_cron(cron["cron_id"]) or {}).get("next_run_date") == following
    assert await storage.claim_cron_firing(uuid7(), due_at, following) is None
    # a cron with no next date stays, but is never due again
    last = await storage.claim_cron_firing(cron["cron_id"], following, None)
    assert last is not None and last["next_run_date"] is None
    assert await storage.due_crons(time.time() + 10**6) == ([], None)


@pytest.fixture(params=["sqlite-file", "postgres"])
async def two_storages(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two storages on one database, as two server processes would have."""
    if request.param == "sqlite-file":
        path = str(tmp_path / "crons.sqlite")
        first: Any = SqliteStorage(path)
        await first.open()
        second: Any = SqliteStorage(path)
    else:
        from graphport.storage.postgres import PostgresStorage

        first = await open_postgres(request.getfixturevalue("postgres_database"))
        second = PostgresStorage(first.url)
    await second.open()
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def test_concurrent_claims_fire_each_firing_once(
    two_storages: tuple[Storage, Storage],
) -> None:
    """Two processes claiming the same due firings at once: each firing is claimed once."""
    first, second = two_storages
    assistant_id = await an_assistant(first)
    due_at = iso(time.time() - 1)
    crons = [make_cron(assistant_id, next_run_date=due_at) for _ in range(20)]
    for cron in crons:
        await first.create_cron(cron)
    following = iso(time.time() + 60)
    seen = await asyncio.gather(first.due_crons(time.time()), second.due_crons(time.time()))
    assert all(len(found) == 20 for found, _ in seen)
    claims = await asyncio.gather(
        *(
            backend.claim_cron_firing(cron["cron_id"], due_at, following)
            for cron in crons
            for backend in (first, second)
        )
    )
    winners = [c["cron_id"] for c in claims if c is not None]
    assert sorted(winners) == sorted(c["cron_id"] for c in crons)
