"""Crons in SQLite (migration 5). A firing is claimed by a compare-and-set on next_run_date."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import orjson

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.storage.base import (
    CRON_SORT_FIELDS,
    Cron,
    apply_cron_update,
    checked_cron_sort,
)
from graphport.storage.sqlite.connection import SqliteBase
from graphport.storage.sqlite.dialect import SQLITE
from graphport.storage.sqlite.rows import dumps, now_iso
from graphport.storage.where import cron_filters

_COLUMNS = (
    "cron_id, assistant_id, thread_id, user_id, end_time, schedule, timezone, payload,"
    " next_run_date, metadata, on_run_completed, enabled, created_at, updated_at"
)
# The epoch columns stand for the ISO ones in comparisons and sorts.
_SORT_KEYS = {field: field for field in CRON_SORT_FIELDS} | {
    "next_run_date": "next_run_at",
    "end_time": "end_at",
}
# A cron fires at next_run_date if it is enabled and that is not after its end_time.
_LIVE = "enabled = 1 AND next_run_at IS NOT NULL AND (end_at IS NULL OR next_run_at <= end_at)"


def _cron(row: tuple[Any, ...]) -> Cron:
    return {
        "cron_id": row[0],
        "assistant_id": row[1],
        "thread_id": row[2],
        "user_id": row[3],
        "end_time": row[4],
        "schedule": row[5],
        "timezone": row[6],
        "payload": orjson.loads(row[7]),
        "next_run_date": row[8],
        "metadata": orjson.loads(row[9]),
        "on_run_completed": row[10],
        "enabled": bool(row[11]),
        "created_at": row[12],
        "updated_at": row[13],
    }


def _epoch(stamp: str | None) -> float | None:
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _get(conn: sqlite3.Connection, cron_id: str) -> Cron | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM crons WHERE cron_id = ?", (cron_id,)).fetchone()
    return _cron(row) if row else None


class CronsMixin(SqliteBase):
    # -- crons -------------------------------------------------------------------------------

    async def create_cron(self, cron: Cron) -> Cron:
        c = cron

        def op(conn: sqlite3.Connection) -> Cron:
            if not conn.execute(
                "SELECT 1 FROM assistants WHERE assistant_id = ?", (c["assistant_id"],)
            ).fetchone():
                raise errors.NotFound(f"Assistant '{c['assistant_id']}' not found")
            if (
                c["thread_id"] is not None
                and not conn.execute(
                    "SELECT 1 FROM threads WHERE thread_id = ?", (c["thread_id"],)
                ).fetchone()
            ):
                raise errors.NotFound(
                    f"Thread with ID '{c['thread_id']}' not found. Please verify the ID is "
                    "correct and the thread hasn't been deleted or expired."
                )
            conn.execute(
                "INSERT INTO crons (cron_id, assistant_id, thread_id, user_id, end_time, end_at,"
                " schedule, timezone, payload, next_run_date, next_run_at, metadata,"
                " on_run_completed, enabled, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    c["cron_id"],
                    c["assistant_id"],
                    c["thread_id"],
                    c["user_id"],
                    c["end_time"],
                    _epoch(c["end_time"]),
                    c["schedule"],
                    c["timezone"],
                    dumps(c["payload"]),
                    c["next_run_date"],
                    _epoch(c["next_run_date"]),
                    dumps(c["metadata"]),
                    c["on_run_completed"],
                    int(c["enabled"]),
                    c["created_at"],
                    c["updated_at"],
                ),
            )
            return c

        return await self._submit(op)

    async def get_cron(self, cron_id: str) -> Cron | None:
        return await self._submit(lambda conn: _get(conn, cron_id))

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
        where, args = cron_filters(SQLITE, assistant_id=assistant_id, thread_id=thread_id,
                                   enabled=enabled, metadata=metadata, visible=visible)  # fmt: skip
        order = f"{_SORT_KEYS[sort_by]} {sort_order}, cron_id {sort_order}"

        def op(conn: sqlite3.Connection) -> tuple[list[Cron], int]:
            total = conn.execute(f"SELECT count(*) FROM crons WHERE {where}", args).fetchone()[0]
            if limit <= 0:
                return [], total
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM crons WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [_cron(r) for r in rows], total

        return await self._submit(op)

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
        stamp = now_iso()

        def op(conn: sqlite3.Connection) -> Cron | None:
            cron = _get(conn, cron_id)
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
            cron["updated_at"] = stamp
            conn.execute(
                "UPDATE crons SET schedule = ?, timezone = ?, next_run_date = ?, next_run_at = ?,"
                " end_time = ?, end_at = ?, enabled = ?, on_run_completed = ?, metadata = ?,"
                " payload = ?, updated_at = ? WHERE cron_id = ?",
                (
                    cron["schedule"],
                    cron["timezone"],
                    cron["next_run_date"],
                    _epoch(cron["next_run_date"]),
                    cron["end_time"],
                    _epoch(cron["end_time"]),
                    int(cron["enabled"]),
                    cron["on_run_completed"],
                    dumps(cron["metadata"]),
                    dumps(cron["payload"]),
                    stamp,
                    cron_id,
                ),
            )
            return cron

        return await self._submit(op)

    async def delete_cron(self, cron_id: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM crons WHERE cron_id = ?", (cron_id,)).rowcount > 0

        return await self._submit(op)

    async def due_crons(self, now: float) -> tuple[list[Cron], float | None]:
        def op(conn: sqlite3.Connection) -> tuple[list[Cron], float | None]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM crons WHERE {_LIVE} AND next_run_at <= ?"
                " ORDER BY next_run_at, cron_id",
                (now,),
            ).fetchall()
            later = conn.execute(
                f"SELECT min(next_run_at) FROM crons WHERE {_LIVE} AND next_run_at > ?", (now,)
            ).fetchone()[0]
            return [_cron(r) for r in rows], later

        return await self._submit(op)

    async def claim_cron_firing(
        self, cron_id: str, next_run_date: str, following: str | None
    ) -> Cron | None:
        def op(conn: sqlite3.Connection) -> Cron | None:
            row = conn.execute(
                "UPDATE crons SET next_run_date = ?, next_run_at = ?"
                f" WHERE cron_id = ? AND next_run_at = ? RETURNING {_COLUMNS}",
                (following, _epoch(following), cron_id, _epoch(next_run_date)),
            ).fetchone()
            return _cron(row) if row else None

        return await self._submit(op)
