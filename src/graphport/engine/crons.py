"""Crons: schedules of runs, and the scheduler that turns due crons into runs.

A cron is a row whose `next_run_date` is its next firing. The scheduler is one asyncio task
per process: it sleeps until the earliest `next_run_date` (woken early when a cron is created
or changed here; at most `max_sleep` seconds, so it also sees crons other processes create),
then claims each due firing by moving `next_run_date` on with a compare-and-set. Only the
process whose claim succeeds creates the run, so a firing happens once however many processes
share the database. Firings missed while no server ran are made up by one firing, at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypedDict, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

from graphport import auth, errors
from graphport.auth import guard
from graphport.auth.filters import Conditions
from graphport.engine.prepare import RESERVED_CONFIGURABLE, RESERVED_METADATA
from graphport.engine.runs import RunEngine
from graphport.engine.webhook_policy import validate_webhook
from graphport.models import iso, uuid7
from graphport.storage.base import Cron, merge_cron_payload

log = logging.getLogger("graphport.crons")

# Seconds between two looks at the table when nothing is due sooner: the only delay before
# this process sees a cron that another process created.
MAX_SLEEP = 60.0
# Sleep this much past a due time, so that the wake-up does not come a hair too early.
_MARGIN = 0.005

_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


# -- schedules ---------------------------------------------------------------------------------


def invalid_schedule(schedule: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        f"Invalid cron schedule: '{schedule}'. Reason: Invalid cron schedule. Ensure the schedule "
        "uses the standard cron format (minute hour day_of_month month day_of_week). "
        "Example: '*/5 * * * *' for every 5 minutes."
    )


def _expression(schedule: str) -> str:
    return _ALIASES.get(schedule.strip().lower(), schedule)


def _zone(timezone: str | None) -> ZoneInfo | Any:
    return ZoneInfo(timezone) if timezone else UTC


def _second_occurrence(moment: datetime, zone: Any) -> bool:
    """Whether `moment` is the second time its wall-clock time is shown (a DST fall-back)."""
    wall = moment.astimezone(zone).replace(tzinfo=None)
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    # compare instants: datetimes sharing a tzinfo compare by wall time, ignoring fold
    return first.utcoffset() != second.utcoffset() and moment.timestamp() == second.timestamp()


def next_run(schedule: str, after: datetime, timezone: str | None = None) -> datetime:
    """The first firing of `schedule` strictly after `after` (an aware datetime), in UTC.

    The schedule is read on the wall clock of `timezone` (UTC when None). A time that a DST
    change skips fires at the change; a fixed time of day (neither minute nor hour starts with
    `*`) that a DST change repeats fires once, the first time, as cron does; `*`-minute or
    `*`-hour schedules fire through the repeated hour like any other.
    Raises CroniterError (or ValueError) for a schedule with no next firing.
    """
    expression = _expression(schedule)
    minute, hour = expression.split()[:2]
    fixed = not (minute.startswith("*") or hour.startswith("*"))
    zone = _zone(timezone)
    times = croniter(expression, after.astimezone(zone))
    candidate: datetime = times.get_next(datetime)
    while fixed and _second_occurrence(candidate, zone):
        candidate = times.get_next(datetime)
    return candidate.astimezone(UTC)


def check_schedule(schedule: str, now: datetime) -> datetime:
    """The next firing of a 5-field schedule (or @hourly, @daily, ...); 422 in the reference's
    words if it is not one or never fires."""
    expression = _expression(schedule)
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise invalid_schedule(schedule)
    try:
        return next_run(schedule, now)
    except (CroniterError, ValueError, KeyError):
        raise invalid_schedule(schedule) from None


def check_timezone(timezone: str | None) -> str | None:
    if timezone is None:
        return None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, KeyError, OSError):
        raise errors.ValidationFailed(
            f"Invalid timezone: '{timezone}'. Use IANA timezone format (e.g. 'America/New_York')."
        ) from None
    return timezone


def parse_end_time(value: str) -> str:
    """An ISO-8601 date-time as graphport writes them (UTC, `+00:00`); naive means UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise errors.ValidationFailed(
            f"Invalid end_time: '{value}'. Use an ISO 8601 date-time "
            "(e.g. '2030-01-01T00:00:00+00:00')."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _sanitized(body: dict[str, Any]) -> dict[str, Any]:
    """The body without the server's reserved keys (dropped silently, as for runs)."""
    body = dict(body)
    if isinstance(body.get("metadata"), dict):
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k not in RESERVED_METADATA}
    if isinstance(body.get("context"), dict):
        body["context"] = {
            k: v for k, v in body["context"].items() if k not in RESERVED_CONFIGURABLE
        }
    if isinstance(body.get("config"), dict):
        config = dict(body["config"])
        if isinstance(config.get("configurable"), dict):
            config["configurable"] = {
                k: v for k, v in config["configurable"].items() if k not in RESERVED_CONFIGURABLE
            }
        if isinstance(config.get("metadata"), dict):
            config["metadata"] = {
                k: v for k, v in config["metadata"].items() if k not in RESERVED_METADATA
            }
        body["config"] = config
    return body


def _without_cron_id(payload: dict[str, Any]) -> dict[str, Any]:
    """A copy of a run body without the `configurable.cron_id` the cron adds to it."""
    body = copy.deepcopy(payload)
    configurable = (body.get("config") or {}).get("configurable")
    if isinstance(configurable, dict):
        configurable.pop("cron_id", None)
    return body


class CronIds(TypedDict):
    """The id filters of a cron search or count."""

    assistant_id: str | None
    thread_id: str | None


# -- the scheduler -----------------------------------------------------------------------------


class CronScheduler:
    """Creates and changes crons, and fires them."""

    def __init__(
        self,
        engine: RunEngine,
        *,
        clock: Callable[[], float] = time.time,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self.engine = engine
        self.storage = engine.storage
        self.clock = clock
        self.max_sleep = max_sleep
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- reading and deleting ------------------------------------------------------------------

    async def _visible(
        self, body: dict[str, Any], ids: CronIds, limit: int, offset: int
    ) -> tuple[dict[str, Any] | None, Conditions | None]:
        """`crons.search`: the metadata to search (as the handler left it) and its filter."""
        value: dict[str, Any] = {**ids, "metadata": body.get("metadata"), "limit": limit,
                                 "offset": offset}  # fmt: skip
        visible = await guard.search("crons", value)
        return value.get("metadata"), visible

    async def search(self, ids: CronIds, body: dict[str, Any]) -> tuple[list[Cron], int]:
        """A page of the crons a validated search body (ids parsed) matches, and the total."""
        limit, offset = int(body.get("limit", 10)), int(body.get("offset", 0))
        sort_by = body.get("sort_by")
        metadata, visible = await self._visible(body, ids, limit, offset)
        return await self.storage.search_crons(
            **ids,
            enabled=body.get("enabled"),
            metadata=metadata,
            visible=visible,
            limit=limit,
            offset=offset,
            sort_by=sort_by or "created_at",
            # as the reference: without sort_by, newest first whatever sort_order says
            sort_order=(body.get("sort_order") or "desc") if sort_by else "desc",
        )

    async def count(self, ids: CronIds, body: dict[str, Any]) -> int:
        metadata, visible = await self._visible(body, ids, 0, 0)
        _, total = await self.storage.search_crons(
            **ids, metadata=metadata, limit=0, visible=visible
        )
        return total

    async def get(self, cron_id: str) -> Cron:
        await guard.cron(self.storage, cron_id, "read")
        cron = await self.storage.get_cron(cron_id)
        if cron is None:
            raise errors.NotFound()
        return cron

    async def delete(self, cron_id: str) -> None:
        await guard.cron(self.storage, cron_id, "delete")
        if not await self.storage.delete_cron(cron_id):
            raise errors.NotFound()

    # -- creating and changing ---------------------------------------------------------------

    async def _check_payload(self, payload: dict[str, Any], *, stateless: bool) -> None:
        """The run-body rules of the run routes, checked once now rather than at each firing."""
        await self.engine.check_run_body(_without_cron_id(payload), stateless=stateless)

    async def create(self, thread_id: str | None, body: dict[str, Any]) -> Cron:
        """A cron from a validated `POST /runs/crons` (thread_id None) or
        `POST /threads/{thread_id}/runs/crons` body."""
        raw_assistant = body["assistant_id"]
        try:
            assistant_id = self.engine.parse_assistant_id(raw_assistant)
        except errors.ValidationFailed:
            raise errors.NotFound(f"Assistant '{raw_assistant}' not found") from None
        timezone = check_timezone(body.get("timezone"))
        end_time = parse_end_time(body["end_time"]) if body.get("end_time") is not None else None
        now = self._now()
        schedule = body["schedule"]
        check_schedule(schedule, now)
        first = next_run(schedule, now, timezone)
        cron_id = uuid7()
        payload = _sanitized(body)
        payload["assistant_id"] = assistant_id
        await self._check_payload(payload, stateless=thread_id is None)
        config = dict(payload.get("config") or {})
        config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
        payload["config"] = config
        session = auth.current()
        if thread_id is not None:  # a cron runs on the thread: the user must see it
            await guard.thread(self.storage, thread_id, "read")
        value = await guard.create("crons", {
            "payload": payload, "schedule": schedule, "cron_id": cron_id,
            "thread_id": thread_id, "user_id": session.identity if session else None,
            "end_time": end_time, "metadata": dict(payload.get("metadata") or {}),
        })  # fmt: skip
        stamp = iso(now.timestamp())
        cron: Cron = {
            "cron_id": cron_id,
            "assistant_id": assistant_id,
            "thread_id": thread_id,
            "user_id": value.get("user_id") or "",  # without custom auth: anonymous
            "end_time": end_time,
            "schedule": schedule,
            "timezone": timezone,
            "payload": payload,
            "next_run_date": first.isoformat(),
            "metadata": value.get("metadata") or {},
            "on_run_completed": (
                None if thread_id is not None else body.get("on_run_completed") or "delete"
            ),
            "enabled": body.get("enabled", True),
            "created_at": stamp,
            "updated_at": stamp,
        }
        created = await self.storage.create_cron(cron)
        self.wake()
        return created

    async def update(self, cron_id: str, body: dict[str, Any]) -> Cron:
        """Apply a validated `PATCH /runs/crons/{cron_id}` body.

        Changing the schedule, time zone, end time or `enabled` recomputes `next_run_date` from
        now, so a cron that comes back (re-enabled, end time moved) does not make up the firings
        it was not due to make meanwhile.
        """
        if not body:
            raise errors.BadRequest("Request body cannot be empty")
        timezone = check_timezone(body.get("timezone"))
        if body.get("webhook") is not None:
            await validate_webhook(body["webhook"], self.engine.settings.webhooks)
        value = {"payload": body, "schedule": body.get("schedule")}
        missing = errors.NotFound(f"Cron '{cron_id}' not found")
        await guard.cron(self.storage, cron_id, "update", value, not_found=missing)
        current = await self.storage.get_cron(cron_id)
        if current is None:
            raise errors.NotFound(f"Cron '{cron_id}' not found")
        now = self._now()
        schedule = body.get("schedule")
        if schedule is not None:
            check_schedule(schedule, now)
        end_time = parse_end_time(body["end_time"]) if body.get("end_time") is not None else None
        following = None
        if {"schedule", "timezone", "end_time", "enabled"} & body.keys():
            following = next_run(
                schedule or current["schedule"], now, timezone or current["timezone"]
            ).isoformat()
        patch = _sanitized(body)
        merged = merge_cron_payload(current["payload"], patch, cron_id)
        await self._check_payload(merged, stateless=current["thread_id"] is None)
        updated = await self.storage.update_cron(
            cron_id,
            schedule=schedule,
            timezone=timezone,
            next_run_date=following,
            end_time=end_time,
            clear_end_time="end_time" in body and body["end_time"] is None,
            enabled=body.get("enabled"),
            on_run_completed=body.get("on_run_completed"),
            metadata=patch.get("metadata"),
            payload=patch,
        )
        if updated is None:
            raise errors.NotFound(f"Cron '{cron_id}' not found")
        self.wake()
        return updated

    # -- firing ------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="cron-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Look at the crons again now (one was created or changed)."""
        self._wakeup.set()

    async def _loop(self) -> None:
        while True:
            self._wakeup.clear()  # before reading: a wake-up during tick() is not lost
            try:
                delay = await self.tick()
            except Exception:
                log.exception("cron scheduler: reading the due crons failed")
                delay = 5.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), delay)

    async def tick(self) -> float:
        """Fire every due cron once; return how long to sleep before the next one is due."""
        now = self.clock()
        due, later = await self.storage.due_crons(now)
        fired = 0
        for cron in due:
            fired += await self.fire(cron, now)
        if fired:
            return 0.0  # look again: the claimed crons now have their next dates
        if due:  # every claim lost to another process or a change: that row has moved on
            return min(1.0, self.max_sleep)
        if later is None:
            return self.max_sleep
        return min(self.max_sleep, max(later - now, 0.0) + _MARGIN)

    async def fire(self, cron: Cron, now: float) -> bool:
        """Claim the cron's due firing and start its run; False if another process (or a
        change to the cron) got there first."""
        due_at = cron["next_run_date"]
        assert due_at is not None
        try:
            following: str | None = next_run(
                cron["schedule"], datetime.fromtimestamp(now, UTC), cron["timezone"]
            ).isoformat()
        except (CroniterError, ValueError, KeyError):
            log.exception(
                "cron %s: schedule %r has no next date", cron["cron_id"], cron["schedule"]
            )
            following = None
        claimed = await self.storage.claim_cron_firing(cron["cron_id"], due_at, following)
        if claimed is None:
            return False
        end_time = claimed["end_time"]
        if not claimed["enabled"] or (end_time is not None and _after(due_at, end_time)):
            return True  # changed since it was read: this firing is skipped
        try:
            await self._start_run(claimed)
        except errors.GraphportError as exc:
            log.warning("cron %s: run not created: %s", claimed["cron_id"], exc)
        except Exception:
            log.exception("cron %s: run not created", claimed["cron_id"])
        return True

    async def _start_run(self, cron: Cron) -> None:
        body = copy.deepcopy(cron["payload"])
        if cron["on_run_completed"] == "keep":
            body.setdefault("on_completion", "keep")
        body["metadata"] = {**cron["metadata"], **(body.get("metadata") or {})}
        # The cron id reaches the run's configurable as a "header" (merged in last): with
        # `context`, a configurable of its own would be refused as configurable + context.
        if body.get("context"):
            body = _without_cron_id(body)
        with auth.acting_for(cron.get("user_id")):  # its runs carry the creator's identity
            run, done, _ = await self.engine.create_run(
                cron["thread_id"],
                body,
                cast(str, None),  # no request: langgraph_request_id is null, as on the reference
                headers={"cron_id": cron["cron_id"]},
            )
        self.engine.bus.forget(run["run_id"], done)
        log.info("cron %s: run %s on thread %s", cron["cron_id"], run["run_id"], run["thread_id"])


def _after(stamp: str, limit: str) -> bool:
    return datetime.fromisoformat(stamp) > datetime.fromisoformat(limit)
