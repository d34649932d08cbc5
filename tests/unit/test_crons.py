"""Crons: next-run computation (time zones, DST), schedule checks, and the scheduler's ticks
over a real SQLite storage with a fake clock and a fake run engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from graphport import errors
from graphport.engine.crons import (
    CronScheduler,
    check_schedule,
    check_timezone,
    next_run,
    parse_end_time,
)
from graphport.models import Assistant, Run, iso, uuid7
from graphport.storage.base import Cron
from graphport.storage.sqlite import SqliteStorage


def at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


# -- next_run ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "after", "timezone", "expected"),
    [
        # UTC when no time zone is given; strictly after `after`
        ("0 9 * * *", "2026-11-25T23:30:00+00:00", None, "2026-11-26T09:00:00+00:00"),
        ("0 9 * * *", "2026-11-26T09:00:00+00:00", None, "2026-11-27T09:00:00+00:00"),
        ("*/5 * * * *", "2026-11-25T23:31:10+00:00", None, "2026-11-25T23:35:00+00:00"),
        # the wall clock of the zone: standard and daylight time
        ("0 9 * * *", "2026-11-25T23:30:00+00:00", "America/New_York", "2026-11-26T14:00:00+00:00"),
        ("0 9 * * *", "2026-07-01T00:00:00+00:00", "America/New_York", "2026-07-01T13:00:00+00:00"),
        ("0 9 * * *", "2026-11-25T23:30:00+00:00", "Asia/Tokyo", "2026-11-26T00:00:00+00:00"),
        ("0 0 * * *", "2026-11-25T12:00:00+00:00", "Asia/Kolkata", "2026-11-25T18:30:00+00:00"),
        # "now" seen in the zone: 23:30 UTC is already Thursday in Tokyo
        ("0 12 * * 4", "2026-11-25T23:30:00+00:00", "Asia/Tokyo", "2026-11-26T03:00:00+00:00"),
        ("0 12 * * 4", "2026-11-25T23:30:00+00:00", None, "2026-11-26T12:00:00+00:00"),
        # aliases
        ("@daily", "2026-11-25T23:30:00+00:00", "Europe/Paris", "2026-11-26T23:00:00+00:00"),
        ("@hourly", "2026-11-25T23:30:00+00:00", None, "2026-11-26T00:00:00+00:00"),
        # spring forward (New York, 2026-03-08 02:00 -> 03:00): a skipped time fires at the change
        (
            "30 2 * * *",
            "2026-03-07T12:00:00+00:00",
            "America/New_York",
            "2026-03-08T07:00:00+00:00",
        ),
        (
            "30 2 * * *",
            "2026-03-08T12:00:00+00:00",
            "America/New_York",
            "2026-03-09T06:30:00+00:00",
        ),
    ],
)
def test_next_run(schedule: str, after: str, timezone: str | None, expected: str) -> None:
    assert next_run(schedule, at(after), timezone) == at(expected)


def test_next_run_fixed_time_in_a_repeated_hour_fires_once() -> None:
    """Fall back (New York, 2026-11-01 02:00 EDT -> 01:00 EST): 01:30 fires the first time
    only, the next firing is the next day's."""
    first = next_run("30 1 * * *", at("2026-10-31T12:00:00+00:00"), "America/New_York")
    assert first == at("2026-11-01T05:30:00+00:00")  # 01:30 EDT
    assert next_run("30 1 * * *", first, "America/New_York") == at("2026-11-02T06:30:00+00:00")
    # created during the repeated hour, after the first 01:30: not again that night
    during = at("2026-11-01T06:10:00+00:00")  # 01:10 EST
    assert next_run("30 1 * * *", during, "America/New_York") == at("2026-11-02T06:30:00+00:00")


def test_next_run_every_30_minutes_runs_through_a_repeated_hour() -> None:
    moment, seen = at("2026-11-01T05:10:00+00:00"), []
    for _ in range(4):
        moment = next_run("*/30 * * * *", moment, "America/New_York")
        seen.append(moment.isoformat())
    assert seen == [
        "2026-11-01T05:30:00+00:00",  # 01:30 EDT
        "2026-11-01T06:00:00+00:00",  # 01:00 EST
        "2026-11-01T06:30:00+00:00",  # 01:30 EST
        "2026-11-01T07:00:00+00:00",
    ]


# -- checks ------------------------------------------------------------------------------------

NOW = at("2026-11-25T23:30:00+00:00")


@pytest.mark.parametrize("schedule", ["nope", "", "* * * *", "* * * * * *", "61 * * * *",
                                      "0 0 31 2 *", "@reboot"])  # fmt: skip
def test_check_schedule_rejects_in_the_reference_words(schedule: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        check_schedule(schedule, NOW)
    assert caught.value.detail == (
        f"Invalid cron schedule: '{schedule}'. Reason: Invalid cron schedule. Ensure the "
        "schedule uses the standard cron format (minute hour day_of_month month day_of_week). "
        "Example: '*/5 * * * *' for every 5 minutes."
    )


@pytest.mark.parametrize("schedule", ["*/5 * * * *", "0 9 * * 1-5", "@weekly", "0 0 29 2 *"])
def test_check_schedule_accepts_standard_schedules(schedule: str) -> None:
    assert check_schedule(schedule, NOW) > NOW


@pytest.mark.parametrize("timezone", ["Mars/Base", "", "../etc/passwd", "america/new york"])
def test_check_timezone(timezone: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        check_timezone(timezone)
    assert caught.value.detail == (
        f"Invalid timezone: '{timezone}'. Use IANA timezone format (e.g. 'America/New_York')."
    )
    assert check_timezone(None) is None
    assert check_timezone("Europe/Paris") == "Europe/Paris"


def test_parse_end_time() -> None:
    assert parse_end_time("2030-01-01T00:00:00Z") == "2030-01-01T00:00:00+00:00"
    assert parse_end_time("2030-01-01T01:00:00+01:00") == "2030-01-01T00:00:00+00:00"
    assert parse_end_time("2030-01-01T00:00:00") == "2030-01-01T00:00:00+00:00"
    with pytest.raises(errors.ValidationFailed, match=r"^Invalid end_time: 'soon'"):
        parse_end_time("soon")


# -- the scheduler -----------------------------------------------------------------------------


class FakeBus:
    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def forget(self, run_id: str, fut: Any) -> None:
        self.forgotten.append(run_id)


class FakeEngine:
    """Records the runs the scheduler asks for; `fail` makes the next ones raise."""

    def __init__(self, storage: SqliteStorage) -> None:
        self.storage = storage
        self.bus = FakeBus()
        self.calls: list[tuple[str | None, dict[str, Any], dict[str, str]]] = []
        self.fail: Exception | None = None

    async def create_run(
        self, thread_id: str | None, body: dict[str, Any], request_id: str, **kw: Any
    ) -> tuple[Run, Any, None]:
        if self.fail is not None:
            raise self.fail
        self.calls.append((thread_id, body, kw.get("headers") or {}))
        run = {"run_id": uuid7(), "thread_id": thread_id or uuid7()}
        return run, None, None  # type: ignore[return-value]


class Clock:
    def __init__(self, stamp: str) -> None:
        self.now = at(stamp).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage() -> AsyncIterator[SqliteStorage]:
    backend = SqliteStorage(":memory:")
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


async def add_cron(storage: SqliteStorage, **fields: Any) -> Cron:
    assistant: Assistant = {
        "assistant_id": str(uuid7()),
        "graph_id": "g",
        "config": {},
        "context": {},
        "metadata": {},
        "name": "a",
        "description": None,
        "created_at": iso(),
        "updated_at": iso(),
        "version": 1,
    }
    await storage.create_assistant(assistant, if_exists="raise")
    cron_id = uuid7()
    cron: dict[str, Any] = {
        "cron_id": cron_id,
        "assistant_id": assistant["assistant_id"],
        "thread_id": None,
        "user_id": "",
        "end_time": None,
        "schedule": "* * * * *",
        "timezone": None,
        "payload": {
            "assistant_id": assistant["assistant_id"],
            "input": {"n": 1},
            "metadata": {"from": "payload"},
            "config": {"configurable": {"cron_id": cron_id}},
        },
        "next_run_date": "2026-11-25T10:00:00+00:00",
        "metadata": {"from": "cron", "team": "a"},
        "on_run_completed": "delete",
        "enabled": True,
        "created_at": iso(),
        "updated_at": iso(),
    }
    cron.update(fields)
    return await storage.create_cron(cron)  # type: ignore[arg-type]


def scheduler(storage: SqliteStorage, clock: Clock, **kw: Any) -> tuple[CronScheduler, FakeEngine]:
    engine = FakeEngine(storage)
    return CronScheduler(engine, clock=clock, **kw), engine  # type: ignore[arg-type]


async def test_missed_firings_fire_once_then_on_schedule(storage: SqliteStorage) -> None:
    """Five missed firings make one run; the next date is the first one after now."""
    cron = await add_cron(storage)
    clock = Clock("2026-11-25T10:05:30+00:00")
    crons, engine = scheduler(storage, clock)
    assert await crons.tick() == 0.0  # fired: look again at once
    assert len(engine.calls) == 1
    stored = await storage.get_cron(cron["cron_id"])
    assert stored is not None and stored["next_run_date"] == "2026-11-25T10:06:00+00:00"
    delay = await crons.tick()
    assert len(engine.calls) == 1 and delay == pytest.approx(30.0, abs=0.1)
    clock.now = at("2026-11-25T10:06:00.2+00:00").timestamp()
    await crons.tick()
    assert len(engine.calls) == 2
    stored = await storage.get_cron(cron["cron_id"])
    assert stored is not None and stored["next_run_date"] == "2026-11-25T10:07:00+00:00"


async def test_the_run_body_is_the_payload(storage: SqliteStorage) -> None:
    """A firing runs the payload: cron metadata under the payload's, `keep` kept, the cron
    id in configurable, on the cron's thread."""
    cron = await add_cron(storage, on_run_completed="keep")
    crons, engine = scheduler(storage, Clock("2026-11-25T10:00:00+00:00"))
    await crons.tick()
    [(thread_id, body, headers)] = engine.calls
    assert thread_id is None and headers == {"cron_id": cron["cron_id"]}
    assert body["on_completion"] == "keep" and body["input"] == {"n": 1}
    assert body["metadata"] == {"from": "payload", "team": "a"}
    assert body["config"]["configurable"]["cron_id"] == cron["cron_id"]
    assert engine.bus.forgotten  # nobody waits for the result


async def test_with_context_the_cron_id_is_not_a_configurable(storage: SqliteStorage) -> None:
    """With `context`, the payload's configurable.cron_id is dropped (configurable + context
    is refused) and the cron id still reaches the run; a thread's cron runs on its thread."""
    cron = await add_cron(storage)
    await storage.update_cron(cron["cron_id"], payload={"context": {"k": "v"}})
    thread_id = uuid7()
    now = iso()
    await storage.create_thread(
        {"thread_id": thread_id, "status": "idle", "metadata": {}, "config": {},
         "created_at": now, "updated_at": now, "state_updated_at": now, "values": None},
        if_exists="raise",
        ttl=None,
    )  # fmt: skip
    on_thread = await add_cron(storage, thread_id=thread_id, on_run_completed=None)
    crons, engine = scheduler(storage, Clock("2026-11-25T10:00:00+00:00"))
    await crons.tick()
    calls = {h["cron_id"]: (t, b) for t, b, h in engine.calls}
    assert set(calls) == {cron["cron_id"], on_thread["cron_id"]}
    stateless_thread, body = calls[cron["cron_id"]]
    assert stateless_thread is None and body["context"] == {"k": "v"}
    assert "cron_id" not in body["config"]["configurable"]
    thread_run, thread_body = calls[on_thread["cron_id"]]
    assert thread_run == thread_id and "on_completion" not in thread_body
    assert thread_body["config"]["configurable"]["cron_id"] == on_thread["cron_id"]


async def test_disabled_and_ended_crons_do_not_fire(storage: SqliteStorage) -> None:
    await add_cron(storage, enabled=False)
    await add_cron(storage, end_time="2026-11-25T09:59:59+00:00")
    last = await add_cron(storage, end_time="2026-11-25T10:00:00+00:00")
    crons, engine = scheduler(storage, Clock("2026-11-25T10:00:30+00:00"), max_sleep=60)
    await crons.tick()
    assert [h["cron_id"] for _, _, h in engine.calls] == [last["cron_id"]]  # ends at its firing
    assert await crons.tick() == 60  # nothing live left: sleep the longest
    assert len(engine.calls) == 1


async def test_a_failed_run_still_consumes_the_firing(storage: SqliteStorage) -> None:
    cron = await add_cron(storage)
    crons, engine = scheduler(storage, Clock("2026-11-25T10:00:00+00:00"))
    engine.fail = errors.NotFound("Thread or assistant not found.")
    assert await crons.tick() == 0.0
    stored = await storage.get_cron(cron["cron_id"])
    assert stored is not None and stored["next_run_date"] == "2026-11-25T10:01:00+00:00"
    engine.fail = None
    await crons.tick()
    assert engine.calls == []


async def test_a_firing_claimed_elsewhere_is_not_run_here(storage: SqliteStorage) -> None:
    """The claim is a compare-and-set: a cron another process moved on is not run again."""
    cron = await add_cron(storage)
    crons, engine = scheduler(storage, Clock("2026-11-25T10:00:00+00:00"))
    assert await storage.claim_cron_firing(
        cron["cron_id"], "2026-11-25T10:00:00+00:00", "2026-11-25T10:01:00+00:00"
    )
    assert await crons.fire(cron, Clock("2026-11-25T10:00:00+00:00")()) is False
    assert engine.calls == []


async def test_the_sleep_is_capped_and_a_wake_up_ends_it(storage: SqliteStorage) -> None:
    """The loop sleeps until the next firing, at most max_sleep; wake() makes it look now."""
    clock = Clock("2026-11-25T10:00:30+00:00")
    crons, engine = scheduler(storage, clock, max_sleep=3600)
    await add_cron(storage, next_run_date="2026-11-25T10:01:00+00:00")
    assert await crons.tick() == pytest.approx(30.0, abs=0.1)
    await add_cron(storage, next_run_date="2026-11-25T13:00:00+00:00", schedule="0 * * * *")
    crons.max_sleep = 20
    assert await crons.tick() == 20
    crons.max_sleep = 3600
    ticks: list[float] = []
    tick = crons.tick

    async def counted() -> float:
        delay = await tick()
        ticks.append(delay)
        return delay

    crons.tick = counted  # type: ignore[method-assign]
    crons.start()
    try:
        for _ in range(500):  # bounded waits for the loop (not speed checks)
            if ticks:
                break
            await asyncio.sleep(0.01)
        assert ticks == [pytest.approx(30.0, abs=0.1)]  # asleep until 10:01, for 30 s
        clock.now = at("2026-11-25T10:01:00+00:00").timestamp()
        crons.wake()
        for _ in range(500):
            if engine.calls:
                break
            await asyncio.sleep(0.01)
        assert len(engine.calls) == 1
    finally:
        await crons.stop()
