"""Threads: one row each, holding the state its last run or update left (`values`,
`interrupts`, `error`, `status`), and its TTL (`ttl`, the epoch second `expires_at`).

A thread's row is what its runs and checkpoints hang on: runs and crons go with it by
ON DELETE CASCADE, checkpoints in the same transaction (`Db.delete_checkpoints`), and the
checkpointers' guards store nothing for a thread without one (postgres/guard.py,
sqlite/saver.py)."""

from __future__ import annotations

import time
from typing import Any

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import Thread, iso
from graphport.storage.base import checked_thread_sort, thread_expiry
from graphport.storage.db import Db, Row
from graphport.storage.tables.flows import Flows
from graphport.storage.tables.rows import (
    THREAD_COLUMNS,
    lock_thread,
    merge_patch,
    thread_busy,
    thread_of,
)
from graphport.storage.where import thread_filters


async def _get(db: Db, thread_id: str) -> Thread | None:
    row = await db.one(f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,))
    return thread_of(db, row) if row else None


async def _create(
    db: Db, t: Thread, if_exists: str, ttl: dict[str, Any] | None, expires: float | None
) -> Thread:
    inserted = await db.count(
        "INSERT INTO threads (thread_id, status, metadata, config, created_at, updated_at,"
        " state_updated_at, ttl, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (thread_id) DO NOTHING",
        (
            t["thread_id"],
            t["status"],
            db.json(t["metadata"]),
            db.json(t["config"]),
            db.ts(t["created_at"]),
            db.ts(t["updated_at"]),
            db.ts(t["state_updated_at"]),
            db.json(ttl or None),
            expires,
        ),
    )
    if inserted:
        # a new thread has no state, whatever a deletion before the guard left
        await db.delete_checkpoints(t["thread_id"])
        return t
    current = await _get(db, t["thread_id"])
    if if_exists == "do_nothing" and current is not None:
        return current
    raise errors.thread_exists(t["thread_id"])


async def _search(
    db: Db, filters: dict[str, Any], limit: int, offset: int, order: str
) -> tuple[list[Thread], int]:
    where, args = thread_filters(db.where, **filters)
    total = await db.one(f"SELECT count(*) FROM threads WHERE {where}", args)
    rows: list[Row] = []
    if limit > 0:  # count_threads asks for the total alone
        rows = await db.all(
            f"SELECT {THREAD_COLUMNS} FROM threads WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
    return [thread_of(db, r) for r in rows], int(total[0]) if total else 0


async def _update(
    db: Db,
    thread_id: str,
    metadata: dict[str, Any] | None,
    ttl: dict[str, Any] | None,
    expires: float | None,
) -> Thread | None:
    thread = await lock_thread(db, thread_id)
    if thread is None:
        return None
    thread["metadata"] = {**thread["metadata"], **(metadata or {})}
    thread["updated_at"] = iso()
    await db.execute(
        "UPDATE threads SET metadata = ?, updated_at = ? WHERE thread_id = ?",
        (db.json(thread["metadata"]), db.ts(thread["updated_at"]), thread_id),
    )
    if ttl:
        await db.execute(
            "UPDATE threads SET ttl = ?, expires_at = ? WHERE thread_id = ?",
            (db.json(ttl), expires, thread_id),
        )
    return thread


async def _set_state(
    db: Db,
    thread_id: str,
    status: str | None,
    values: Any,
    interrupts: dict[str, Any],
    error: Any,
    metadata: dict[str, Any] | None,
) -> None:
    # the thread row first, then its runs (the locking rule, rows.lock_thread): a run
    # committing meanwhile is seen, and the thread stays busy
    locked = await lock_thread(db, thread_id)
    if locked is None:
        return
    busy = await thread_busy(db, thread_id)
    stamp = db.ts(iso())
    await db.execute(
        'UPDATE threads SET status = coalesce(?, status), "values" = ?, interrupts = ?,'
        " error = ?, updated_at = ?, state_updated_at = ?, metadata = ? WHERE thread_id = ?",
        (
            "busy" if busy else status,
            db.json(values),
            db.json(interrupts),
            db.json(error),
            stamp,
            stamp,
            db.json(merge_patch(locked["metadata"], metadata or {})),
            thread_id,
        ),
    )


async def _delete(db: Db, thread_id: str) -> bool:
    # the thread row first (its runs and crons go by ON DELETE CASCADE): the lock order
    if not await db.count("DELETE FROM threads WHERE thread_id = ?", (thread_id,)):
        return False
    await db.delete_checkpoints(thread_id)
    return True


async def _expired(db: Db, now: float, limit: int) -> list[tuple[str, str]]:
    rows = await db.all(
        "SELECT thread_id, coalesce(ttl ->> 'strategy', 'delete') FROM threads"
        " WHERE expires_at IS NOT NULL AND expires_at <= ? AND status != 'busy'"
        " ORDER BY expires_at LIMIT ?",
        (now, limit),
    )
    return [(r[0], r[1]) for r in rows]


async def _renew(db: Db, thread_id: str, now: float) -> None:
    await db.execute(
        "UPDATE threads SET expires_at = ? + CAST(ttl ->> 'ttl' AS DOUBLE PRECISION) * 60"
        " WHERE thread_id = ? AND ttl IS NOT NULL",
        (now, thread_id),
    )


class ThreadTables(Flows):
    """The thread methods of `Storage`, on any backend."""

    default_ttl: dict[str, Any] | None

    async def create_thread(
        self, thread: Thread, *, if_exists: str, ttl: dict[str, Any] | None
    ) -> Thread:
        chosen, expires = thread_expiry(ttl, self.default_ttl, time.time())
        return await self._flow(_create, thread, if_exists, chosen, expires)

    async def get_thread(self, thread_id: str) -> Thread | None:
        return await self._read(_get, thread_id)

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
        filters = {"metadata": metadata, "values": values, "status": status, "ids": ids,
                   "visible": visible}  # fmt: skip
        sort_by, sort_order = checked_thread_sort(sort_by, sort_order)
        order = f"{sort_by} {sort_order}, thread_id {sort_order}"
        # one transaction: the total and the page from one snapshot
        return await self._flow(_search, filters, limit, offset, order)

    async def update_thread(
        self, thread_id: str, *, metadata: dict[str, Any] | None, ttl: dict[str, Any] | None
    ) -> Thread | None:
        expires = time.time() + float(ttl["ttl"]) * 60 if ttl else None
        return await self._flow(_update, thread_id, metadata, ttl, expires)

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
        await self._flow(_set_state, thread_id, status, values, interrupts, error, metadata)

    async def delete_thread(self, thread_id: str) -> bool:
        return await self._flow(_delete, thread_id)

    async def expired_threads(self, now: float, limit: int) -> list[tuple[str, str]]:
        return await self._read(_expired, now, limit)

    async def renew_ttl(self, thread_id: str, now: float) -> None:
        # one statement: atomic without PostgreSQL's BEGIN and COMMIT
        await self._read(_renew, thread_id, now)
