"""Threads in PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import Thread, iso
from graphport.storage.base import checked_thread_sort, thread_expiry
from graphport.storage.postgres.connection import PostgresBase, lock_thread, thread_busy
from graphport.storage.postgres.dialect import POSTGRES
from graphport.storage.postgres.guard import delete_checkpoints
from graphport.storage.postgres.rows import (
    THREAD_COLUMNS,
    jsonb,
    jsonb_or_null,
    merge_patch,
    thread_from_row,
    ts,
)
from graphport.storage.where import thread_filters


class ThreadsMixin(PostgresBase):
    # -- threads -----------------------------------------------------------------------------

    async def create_thread(
        self, thread: Thread, *, if_exists: str, ttl: dict[str, Any] | None
    ) -> Thread:
        t = thread
        ttl, expires = thread_expiry(ttl, self.default_ttl, time.time())
        async with self._transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO threads (thread_id, status, metadata, config, created_at,"
                " updated_at, state_updated_at, ttl, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (thread_id) DO NOTHING",
                (
                    t["thread_id"],
                    t["status"],
                    jsonb(t["metadata"]),
                    jsonb(t["config"]),
                    ts(t["created_at"]),
                    ts(t["updated_at"]),
                    ts(t["state_updated_at"]),
                    jsonb_or_null(ttl or None),
                    expires,
                ),
            )
            if cur.rowcount:
                # a new thread has no state, whatever a deletion before the guard left
                await delete_checkpoints(tx, t["thread_id"])
                return t
            cur = await tx.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = %s", (t["thread_id"],)
            )
            row = await cur.fetchone()
        if if_exists == "do_nothing" and row is not None:
            return thread_from_row(row)
        raise errors.thread_exists(t["thread_id"])

    async def get_thread(self, thread_id: str) -> Thread | None:
        row = await self._fetchone(
            f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = %s", (thread_id,)
        )
        return thread_from_row(row) if row else None

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
        where, args = thread_filters(POSTGRES, metadata=metadata, values=values, status=status,
                                     ids=ids, visible=visible)  # fmt: skip
        sort_by, sort_order = checked_thread_sort(sort_by, sort_order)
        order = f"{sort_by} {sort_order}, thread_id {sort_order}"
        async with self._transaction() as tx:
            cur = await tx.execute(f"SELECT count(*) AS n FROM threads WHERE {where}", args)
            total = await cur.fetchone()
            rows: list[Any] = []
            if limit > 0:
                cur = await tx.execute(
                    f"SELECT {THREAD_COLUMNS} FROM threads WHERE {where} ORDER BY {order}"
                    " LIMIT %s OFFSET %s",
                    [*args, limit, offset],
                )
                rows = await cur.fetchall()
        return [thread_from_row(r) for r in rows], int(total["n"]) if total else 0

    async def update_thread(
        self, thread_id: str, *, metadata: dict[str, Any] | None, ttl: dict[str, Any] | None
    ) -> Thread | None:
        expires = time.time() + float(ttl["ttl"]) * 60 if ttl else None
        async with self._transaction() as tx:
            cur = await tx.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = %s FOR NO KEY UPDATE",
                (thread_id,),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            thread = thread_from_row(row)
            thread["metadata"] = {**thread["metadata"], **(metadata or {})}
            thread["updated_at"] = iso()
            await tx.execute(
                "UPDATE threads SET metadata = %s, updated_at = %s WHERE thread_id = %s",
                (jsonb(thread["metadata"]), ts(thread["updated_at"]), thread_id),
            )
            if ttl:
                await tx.execute(
                    "UPDATE threads SET ttl = %s, expires_at = %s WHERE thread_id = %s",
                    (jsonb(ttl), expires, thread_id),
                )
            return thread

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
        stamp = ts(iso())
        async with self._transaction() as tx:
            locked = await lock_thread(tx, thread_id)
            if locked is None:
                return
            busy = await thread_busy(tx, thread_id)
            await tx.execute(
                'UPDATE threads SET status = coalesce(%s, status), "values" = %s, interrupts = %s,'
                " error = %s, updated_at = %s, state_updated_at = %s, metadata = %s"
                " WHERE thread_id = %s",
                (
                    "busy" if busy else status,
                    jsonb_or_null(values),
                    jsonb(interrupts),
                    jsonb_or_null(error),
                    stamp,
                    stamp,
                    jsonb(merge_patch(locked["metadata"], metadata or {})),
                    thread_id,
                ),
            )

    async def delete_thread(self, thread_id: str) -> bool:
        async with self._transaction() as tx:
            # the thread row first (then its runs, by ON DELETE CASCADE): the lock order; its
            # checkpoints in the same transaction (see guard.py)
            cur = await tx.execute("DELETE FROM threads WHERE thread_id = %s", (thread_id,))
            if cur.rowcount == 0:
                return False
            await delete_checkpoints(tx, thread_id)
            return True

    async def expired_threads(self, now: float, limit: int) -> list[tuple[str, str]]:
        rows = await self._fetchall(
            "SELECT thread_id, coalesce(ttl ->> 'strategy', 'delete') AS strategy FROM threads"
            " WHERE expires_at IS NOT NULL AND expires_at <= %s"
            " AND status != 'busy' ORDER BY expires_at LIMIT %s",
            (now, limit),
        )
        return [(r["thread_id"], r["strategy"]) for r in rows]

    async def renew_ttl(self, thread_id: str, now: float) -> None:
        async with self._transaction(atomic=False) as tx:
            await tx.execute(
                "UPDATE threads SET expires_at = %s + (ttl ->> 'ttl')::float8 * 60"
                " WHERE thread_id = %s AND ttl IS NOT NULL",
                (now, thread_id),
            )
