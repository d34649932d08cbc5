"""Crons in PostgreSQL (migration 2). A firing is claimed by a compare-and-set on next_run_date:
a conditional UPDATE, which a concurrent claim of the same firing re-checks after the first
commits (READ COMMITTED), so it finds the row moved on and claims nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import iso
from graphport.storage.base import (
    Cron,
    apply_cron_update,
    checked_cron_sort,
)
from graphport.storage.postgres.connection import PostgresBase, Tx
from graphport.storage.postgres.dialect import POSTGRES
from graphport.storage.postgres.rows import iso_of, jsonb, text_in, text_out
from graphport.storage.where import cron_filters

_COLUMNS = (
    "cron_id, assistant_id, thread_id, user_id, end_time, schedule, timezone, payload,"
    " next_run_date, metadata, on_run_completed, enabled, created_at, updated_at"
)
# A cron fires at next_run_date if it is enabled and that is not after its end_time.
_LIVE = "enabled AND next_run_date IS NOT NULL AND (end_time IS NULL OR next_run_date <= end_time)"


def _cron(row: dict[str, Any]) -> Cron:
    return {
        "cron_id": row["cron_id"],
        "assistant_id": row["assistant_id"],
        "thread_id": row["thread_id"],
        "user_id": text_out(row["user_id"]),
        "end_time": _iso(row["end_time"]),
        "schedule": text_out(row["schedule"]) or "",
        "timezone": text_out(row["timezone"]),
        "payload": row["payload"],
        "next_run_date": _iso(row["next_run_date"]),
        "metadata": row["metadata"],
        "on_run_completed": text_out(row["on_run_completed"]),
        "enabled": bool(row["enabled"]),
        "created_at": iso_of(row["created_at"]),
        "updated_at": iso_of(row["updated_at"]),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso_of(value)


def _moment(stamp: str | None) -> datetime | None:
    """The instant of an ISO timestamp (naive means UTC, as the SQLite backend reads it)."""
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _get(tx: Tx, cron_id: str, *, lock: bool = False) -> Cron | None:
    cur = await tx.execute(
        f"SELECT {_COLUMNS} FROM crons WHERE cron_id = %s" + (" FOR UPDATE" if lock else ""),
        (cron_id,),
    )
    row = await cur.fetchone()
    return _cron(row) if row else None


class CronsMixin(PostgresBase):
    # -- crons -------------------------------------------------------------------------------

    async def create_cron(self, cron: Cron) -> Cron:
        c = cron
        async with self._transaction() as tx:
            # FOR KEY SHARE: neither can be deleted before this commits (the foreign keys' lock)
            cur = await tx.execute(
                "SELECT 1 FROM assistants WHERE assistant_id = %s FOR KEY SHARE",
                (c["assistant_id"],),
            )
            if await cur.fetchone() is None:
                raise errors.NotFound(f"Assistant '{c['assistant_id']}' not found")
            if c["thread_id"] is not None:
                cur = await tx.execute(
                    "SELECT 1 FROM threads WHERE thread_id = %s FOR KEY SHARE", (c["thread_id"],)
                )
                if await cur.fetchone() is None:
                    raise errors.NotFound(
                        f"Thread with ID '{c['thread_id']}' not found. Please verify the ID is "
                        "correct and the thread hasn't been deleted or expired."
                    )
            await tx.execute(
                f"INSERT INTO crons ({_COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    c["cron_id"],
                    c["assistant_id"],
                    c["thread_id"],
                    text_in(c["user_id"]),
                    _moment(c["end_time"]),
                    text_in(c["schedule"]),
                    text_in(c["timezone"]),
                    jsonb(c["payload"]),
                    _moment(c["next_run_date"]),
                    jsonb(c["metadata"]),
                    text_in(c["on_run_completed"]),
                    bool(c["enabled"]),
                    _moment(c["created_at"]),
                    _moment(c["updated_at"]),
                ),
            )
        return c

    async def get_cron(self, cron_id: str) -> Cron | None:
        async with self._transaction(atomic=False) as tx:
            return await _get(tx, cron_id)

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
        where, args = cron_filters(POSTGRES, assistant_id=assistant_id, thread_id=thread_id,
                                   enabled=enabled, metadata=metadata, visible=visible)  # fmt: skip
        # NULL is the smallest value, as in SQLite: first ascending, last descending
        nulls = "NULLS FIRST" if sort_order == "asc" else "NULLS LAST"
        order = f"{sort_by} {sort_order} {nulls}, cron_id {sort_order}"
        async with self._transaction() as tx:
            cur = await tx.execute(f"SELECT count(*) AS n FROM crons WHERE {where}", args)
            total_row = await cur.fetchone()
            total = int(total_row["n"]) if total_row else 0
            if limit <= 0:
                return [], total
            cur = await tx.execute(
                f"SELECT {_COLUMNS} FROM crons WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s",
                [*args, limit, max(offset, 0)],
            )
            rows = await cur.fetchall()
        return [_cron(r) for r in rows], total

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
        async with self._transaction() as tx:
            cron = await _get(tx, cron_id, lock=True)
            if cron is None:
                return None
            apply_cron_update(
                cron,
                schedule=schedule,
                timezone=timezone,
                next_run_date=next_run_date,
                end_time=end_time,
                clear_end_time=clear_end_time,
                enabled=enabled,
                on_run_completed=on_run_completed,
                metadata=metadata,
                payload=payload,
            )
            cur = await tx.execute(
                "UPDATE crons SET schedule = %s, timezone = %s, next_run_date = %s,"
                " end_time = %s, enabled = %s, on_run_completed = %s, metadata = %s,"
                f" payload = %s, updated_at = %s WHERE cron_id = %s RETURNING {_COLUMNS}",
                (
                    text_in(cron["schedule"]),
                    text_in(cron["timezone"]),
                    _moment(cron["next_run_date"]),
                    _moment(cron["end_time"]),
                    bool(cron["enabled"]),
                    text_in(cron["on_run_completed"]),
                    jsonb(cron["metadata"]),
                    jsonb(cron["payload"]),
                    _moment(iso()),
                    cron_id,
                ),
            )
            row = await cur.fetchone()
        return _cron(row) if row else None

    async def delete_cron(self, cron_id: str) -> bool:
        async with self._transaction(atomic=False) as tx:
            cur = await tx.execute("DELETE FROM crons WHERE cron_id = %s", (cron_id,))
            return cur.rowcount > 0

    async def due_crons(self, now: float) -> tuple[list[Cron], float | None]:
        moment = datetime.fromtimestamp(now, UTC)
        async with self._transaction() as tx:
            cur = await tx.execute(
                f"SELECT {_COLUMNS} FROM crons WHERE {_LIVE} AND next_run_date <= %s"
                " ORDER BY next_run_date, cron_id",
                (moment,),
            )
            rows = await cur.fetchall()
            cur = await tx.execute(
                f"SELECT min(next_run_date) AS later FROM crons WHERE {_LIVE}"
                " AND next_run_date > %s",
                (moment,),
            )
            later = await cur.fetchone()
        when = later["later"] if later else None
        return [_cron(r) for r in rows], None if when is None else when.timestamp()

    async def claim_cron_firing(
        self, cron_id: str, next_run_date: str, following: str | None
    ) -> Cron | None:
        async with self._transaction(atomic=False) as tx:
            cur = await tx.execute(
                "UPDATE crons SET next_run_date = %s"
                f" WHERE cron_id = %s AND next_run_date = %s RETURNING {_COLUMNS}",
                (_moment(following), cron_id, _moment(next_run_date)),
            )
            row = await cur.fetchone()
        return _cron(row) if row else None
