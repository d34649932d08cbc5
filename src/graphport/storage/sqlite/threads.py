"""Threads in SQLite."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import Thread
from graphport.storage.base import checked_thread_sort, thread_expiry
from graphport.storage.sqlite.connection import SqliteBase
from graphport.storage.sqlite.dialect import SQLITE
from graphport.storage.sqlite.rows import (
    THREAD_COLUMNS,
    dumps,
    has_live_runs,
    now_iso,
    thread_from_row,
)
from graphport.storage.sqlite.saver import delete_checkpoints
from graphport.storage.where import thread_filters


class ThreadsMixin(SqliteBase):
    # -- threads -----------------------------------------------------------------------------

    async def create_thread(
        self, thread: Thread, *, if_exists: str, ttl: dict[str, Any] | None
    ) -> Thread:
        t = thread
        ttl, expires = thread_expiry(ttl, self.default_ttl, time.time())
        in_file = self.path != ":memory:"

        def op(conn: sqlite3.Connection) -> Thread:
            row = conn.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (t["thread_id"],)
            ).fetchone()
            if row is not None:
                if if_exists == "do_nothing":
                    return thread_from_row(row)
                raise errors.thread_exists(t["thread_id"])
            conn.execute(
                "INSERT INTO threads (thread_id, status, metadata, config, created_at,"
                " updated_at, state_updated_at, ttl, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    t["thread_id"],
                    t["status"],
                    dumps(t["metadata"]),
                    dumps(t["config"]),
                    t["created_at"],
                    t["updated_at"],
                    t["state_updated_at"],
                    dumps(ttl) if ttl else None,
                    expires,
                ),
            )
            if in_file:  # a new thread has no state, whatever a deletion before the guard left
                delete_checkpoints(conn, t["thread_id"])
            return t

        created = await self._submit(op)
        if created is t and not in_file:  # the InMemorySaver's leftovers
            self.checkpointer.delete_thread(t["thread_id"])
        return created

    async def get_thread(self, thread_id: str) -> Thread | None:
        def op(conn: sqlite3.Connection) -> Thread | None:
            row = conn.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            return thread_from_row(row) if row else None

        return await self._submit(op)

    async def search_threads(
        self,
        *,
        metadata: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        status: str | None = None,
        ids: list[str] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str = "created_at",
        sort_order: str = "desc",
        visible: Conditions | None = None,
    ) -> tuple[list[Thread], int]:
        where, args = thread_filters(SQLITE, metadata=metadata, values=values, status=status,
                                     ids=ids, visible=visible)  # fmt: skip
        sort_by, sort_order = checked_thread_sort(sort_by, sort_order)
        order = f"{sort_by} {sort_order}, thread_id {sort_order}"

        def op(conn: sqlite3.Connection) -> tuple[list[Thread], int]:
            total = conn.execute(f"SELECT count(*) FROM threads WHERE {where}", args).fetchone()[0]
            rows = conn.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE {where} ORDER BY {order}"
                " LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [thread_from_row(r) for r in rows], total

        return await self._submit(op)

    async def update_thread(
        self, thread_id: str, *, metadata: dict[str, Any] | None, ttl: dict[str, Any] | None
    ) -> Thread | None:
        expires = time.time() + float(ttl["ttl"]) * 60 if ttl else None

        def op(conn: sqlite3.Connection) -> Thread | None:
            row = conn.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if row is None:
                return None
            thread = thread_from_row(row)
            thread["metadata"] = {**thread["metadata"], **(metadata or {})}
            thread["updated_at"] = now_iso()
            conn.execute(
                "UPDATE threads SET metadata = ?, updated_at = ? WHERE thread_id = ?",
                (dumps(thread["metadata"]), thread["updated_at"], thread_id),
            )
            if ttl:
                conn.execute(
                    "UPDATE threads SET ttl = ?, expires_at = ? WHERE thread_id = ?",
                    (dumps(ttl), expires, thread_id),
                )
            return thread

        return await self._submit(op)

    async def set_thread_state(
        self,
        thread_id: str,
        *,
        status: str | None,
        values: Any,
        interrupts: dict[str, Any],
        error: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        stamp = now_iso()

        def op(conn: sqlite3.Connection) -> None:
            busy = has_live_runs(conn, thread_id)
            conn.execute(
                'UPDATE threads SET status = coalesce(?, status), "values" = ?, interrupts = ?,'
                " error = ?, updated_at = ?, state_updated_at = ?,"
                " metadata = json_patch(metadata, ?) WHERE thread_id = ?",
                (
                    "busy" if busy else status,
                    dumps(values) if values is not None else None,
                    dumps(interrupts),
                    dumps(error) if error is not None else None,
                    stamp,
                    stamp,
                    dumps(metadata or {}),
                    thread_id,
                ),
            )

        await self._submit(op)

    async def delete_thread(self, thread_id: str) -> bool:
        in_file = self.path != ":memory:"  # else the checkpoints are in an InMemorySaver

        def op(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM runs WHERE thread_id = ?", (thread_id,))
            deleted = conn.execute("DELETE FROM threads WHERE thread_id = ?", (thread_id,))
            if deleted.rowcount and in_file:  # in the same transaction (see saver.py)
                delete_checkpoints(conn, thread_id)
            return deleted.rowcount > 0

        deleted = await self._submit(op)
        if deleted and not in_file:
            await self.checkpointer.adelete_thread(thread_id)
        return deleted

    async def expired_threads(self, now: float, limit: int) -> list[tuple[str, str]]:
        def op(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute(
                "SELECT thread_id, coalesce(ttl ->> '$.strategy', 'delete') FROM threads"
                " WHERE expires_at IS NOT NULL AND expires_at <= ?"
                " AND status != 'busy' ORDER BY expires_at LIMIT ?",
                (now, limit),
            ).fetchall()
            return [(r[0], r[1]) for r in rows]

        return await self._submit(op)

    async def renew_ttl(self, thread_id: str, now: float) -> None:
        await self._submit(
            lambda conn: conn.execute(
                "UPDATE threads SET expires_at = ? + (ttl ->> '$.ttl') * 60"
                " WHERE thread_id = ? AND ttl IS NOT NULL",
                (now, thread_id),
            )
        )
