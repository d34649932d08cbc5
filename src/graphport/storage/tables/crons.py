"""Crons: one row each, `next_run_date` its next firing. A firing is claimed by a compare-and-set
on next_run_date: a conditional UPDATE, which a concurrent claim of the same firing re-checks
after the first commits (PostgreSQL's READ COMMITTED; SQLite runs one writer at a time), so it
finds the row moved on and claims nothing.

The instants (`next_run_date`, `end_time`) are compared and sorted in SQL: TIMESTAMPTZ on
PostgreSQL, ISO text on SQLite (migration 8), which orders as the instants only when every one
is spelled alike, so each is stored as `models.iso` spells them (UTC, '+00:00')."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import iso
from graphport.storage.base import Cron, apply_cron_update, checked_cron_sort
from graphport.storage.db import Db, Row
from graphport.storage.tables.flows import Flows
from graphport.storage.where import cron_filters

_COLUMNS = (
    "cron_id, assistant_id, thread_id, user_id, end_time, schedule, timezone, payload,"
    " next_run_date, metadata, on_run_completed, enabled, created_at, updated_at"
)
# A cron fires at next_run_date if it is enabled and that is not after its end_time.
_LIVE = "enabled AND next_run_date IS NOT NULL AND (end_time IS NULL OR next_run_date <= end_time)"


def _cron(db: Db, row: Row) -> Cron:
    return {
        "cron_id": row[0],
        "assistant_id": row[1],
        "thread_id": row[2],
        "user_id": db.from_text(row[3]),
        "end_time": _from_instant(db, row[4]),
        "schedule": db.from_text(row[5]) or "",
        "timezone": db.from_text(row[6]),
        "payload": db.from_json(row[7]),
        "next_run_date": _from_instant(db, row[8]),
        "metadata": db.from_json(row[9]),
        "on_run_completed": db.from_text(row[10]),
        "enabled": bool(row[11]),
        "created_at": db.from_ts(row[12]),
        "updated_at": db.from_ts(row[13]),
    }


def _instant(db: Db, stamp: str | None) -> Any:
    """A cron's instant for its column, in UTC (naive means UTC): see the module docstring."""
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return db.ts(moment.astimezone(UTC).isoformat())


def _from_instant(db: Db, raw: Any) -> str | None:
    return None if raw is None else db.from_ts(raw)


async def _get(db: Db, cron_id: str, *, lock: bool = False) -> Cron | None:
    row = await db.one(
        f"SELECT {_COLUMNS} FROM crons WHERE cron_id = ?" + (db.for_update if lock else ""),
        (cron_id,),
    )
    return _cron(db, row) if row else None


async def _create(db: Db, c: Cron) -> Cron:
    # locked: neither can be deleted before this commits (the lock of their foreign keys)
    if not await db.one(
        f"SELECT 1 FROM assistants WHERE assistant_id = ?{db.for_key_share}", (c["assistant_id"],)
    ):
        raise errors.NotFound(f"Assistant '{c['assistant_id']}' not found")
    if c["thread_id"] is not None and not await db.one(
        f"SELECT 1 FROM threads WHERE thread_id = ?{db.for_key_share}", (c["thread_id"],)
    ):
        raise errors.NotFound(
            f"Thread with ID '{c['thread_id']}' not found. Please verify the ID is "
            "correct and the thread hasn't been deleted or expired."
        )
    await db.execute(
        f"INSERT INTO crons ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            c["cron_id"],
            c["assistant_id"],
            c["thread_id"],
            db.text(c["user_id"]),
            _instant(db, c["end_time"]),
            db.text(c["schedule"]),
            db.text(c["timezone"]),
            db.json(c["payload"]),
            _instant(db, c["next_run_date"]),
            db.json(c["metadata"]),
            db.text(c["on_run_completed"]),
            bool(c["enabled"]),
            db.ts(c["created_at"]),
            db.ts(c["updated_at"]),
        ),
    )
    return c


async def _search(
    db: Db, filters: dict[str, Any], limit: int, offset: int, sort_by: str, sort_order: str
) -> tuple[list[Cron], int]:
    where, args = cron_filters(db.where, **filters)
    # NULL is the smallest value, as SQLite has it: first ascending, last descending
    nulls = "NULLS FIRST" if sort_order == "asc" else "NULLS LAST"
    order = f"{sort_by} {sort_order} {nulls}, cron_id {sort_order}"
    row = await db.one(f"SELECT count(*) FROM crons WHERE {where}", args)
    total = int(row[0]) if row else 0
    if limit <= 0:
        return [], total
    rows = await db.all(
        f"SELECT {_COLUMNS} FROM crons WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*args, limit, max(offset, 0)],
    )
    return [_cron(db, r) for r in rows], total


async def _update(db: Db, cron_id: str, changes: dict[str, Any]) -> Cron | None:
    cron = await _get(db, cron_id, lock=True)
    if cron is None:
        return None
    apply_cron_update(cron, **changes)
    row = await db.one(
        "UPDATE crons SET schedule = ?, timezone = ?, next_run_date = ?, end_time = ?,"
        " enabled = ?, on_run_completed = ?, metadata = ?, payload = ?, updated_at = ?"
        f" WHERE cron_id = ? RETURNING {_COLUMNS}",
        (
            db.text(cron["schedule"]),
            db.text(cron["timezone"]),
            _instant(db, cron["next_run_date"]),
            _instant(db, cron["end_time"]),
            bool(cron["enabled"]),
            db.text(cron["on_run_completed"]),
            db.json(cron["metadata"]),
            db.json(cron["payload"]),
            db.ts(iso()),
            cron_id,
        ),
    )
    return _cron(db, row) if row else None


async def _delete(db: Db, cron_id: str) -> bool:
    return await db.count("DELETE FROM crons WHERE cron_id = ?", (cron_id,)) > 0


async def _due(db: Db, now: float) -> tuple[list[Cron], float | None]:
    moment = db.ts(iso(now))
    rows = await db.all(
        f"SELECT {_COLUMNS} FROM crons WHERE {_LIVE} AND next_run_date <= ?"
        " ORDER BY next_run_date, cron_id",
        (moment,),
    )
    row = await db.one(
        f"SELECT min(next_run_date) FROM crons WHERE {_LIVE} AND next_run_date > ?", (moment,)
    )
    later = _from_instant(db, row[0] if row else None)
    when = None if later is None else datetime.fromisoformat(later).timestamp()
    return [_cron(db, r) for r in rows], when


async def _claim(db: Db, cron_id: str, next_run_date: str, following: str | None) -> Cron | None:
    row = await db.one(
        "UPDATE crons SET next_run_date = ?"
        f" WHERE cron_id = ? AND next_run_date = ? RETURNING {_COLUMNS}",
        (_instant(db, following), cron_id, _instant(db, next_run_date)),
    )
    return _cron(db, row) if row else None


class CronTables(Flows):
    """The cron methods of `Storage`, on any backend."""

    async def create_cron(self, cron: Cron) -> Cron:
        return await self._flow(_create, cron)

    async def get_cron(self, cron_id: str) -> Cron | None:
        return await self._read(_get, cron_id)

    async def search_crons(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str = "created_at",
        sort_order: str = "desc",
        visible: Conditions | None = None,
    ) -> tuple[list[Cron], int]:
        sort_by, sort_order = checked_cron_sort(sort_by, sort_order)
        filters = {"assistant_id": assistant_id, "thread_id": thread_id, "enabled": enabled,
                   "metadata": metadata, "visible": visible}  # fmt: skip
        return await self._flow(_search, filters, limit, offset, sort_by, sort_order)

    async def update_cron(
        self,
        cron_id: str,
        *,
        schedule: str | None = None,
        timezone: str | None = None,
        next_run_date: str | None = None,
        end_time: str | None = None,
        clear_end_time: bool = False,
        enabled: bool | None = None,
        on_run_completed: str | None = None,
        metadata: dict[str, Any] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Cron | None:
        changes = {"schedule": schedule, "timezone": timezone, "next_run_date": next_run_date,
                   "end_time": end_time, "clear_end_time": clear_end_time, "enabled": enabled,
                   "on_run_completed": on_run_completed, "metadata": metadata,
                   "payload": payload}  # fmt: skip
        return await self._flow(_update, cron_id, changes)

    async def delete_cron(self, cron_id: str) -> bool:
        return await self._flow(_delete, cron_id)

    async def due_crons(self, now: float) -> tuple[list[Cron], float | None]:
        return await self._flow(_due, now)

    async def claim_cron_firing(
        self, cron_id: str, next_run_date: str, following: str | None
    ) -> Cron | None:
        return await self._flow(_claim, cron_id, next_run_date, following)
