"""Processes and their runs: heartbeats, taking over the runs of a process that went silent,
and handing this process's runs back when it stops.

One SQLite process (the default, not `shared`) has no heartbeats: every run it finds running
when it starts was abandoned by its previous life, and afterwards all running runs are its own.
Processes sharing a database (several on one SQLite file, any number on PostgreSQL) go by
heartbeat; `Db.heartbeat_fresh` says by which clock.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from graphport.models import Run, iso
from graphport.storage.db import Db
from graphport.storage.tables.flows import Flows
from graphport.storage.tables.rows import RUN_COLUMNS, owner_silent, run_of


async def _heartbeat(db: Db, worker_id: str) -> None:
    now, args = db.clock()
    await db.execute(
        "INSERT INTO workers (worker_id, host, pid, started_at, heartbeat_at)"
        f" VALUES (?, ?, ?, {now}, {now})"
        " ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        (worker_id, socket.gethostname(), os.getpid(), *args, *args),
    )


async def _recover(
    db: Db, worker_id: str, stale_after: float | None, max_attempts: int
) -> tuple[int, list[Run]]:
    # abandoned: running, and (one process) any, or (shared) its process is silent
    abandoned, args = "runs.status = 'running'", list[Any]()
    if stale_after is not None:
        silent, args = owner_silent(db, "runs", stale_after)
        abandoned += f" AND {silent}"
    stamp = db.ts(iso())
    # Requeueing a running run cannot break "one running run per thread", so no thread lock is
    # needed; concurrent recoveries serialise on the run rows, and the second one re-checks the
    # condition and finds the run pending (or owned by a live process).
    requeued = await db.count(
        "UPDATE runs SET status = 'pending', worker_id = NULL, updated_at = ?"
        f" WHERE {abandoned} AND attempt < ?",
        [stamp, *args, max_attempts],
    )
    rows = await db.all(  # the runs out of attempts: now this process's to fail
        f"UPDATE runs SET worker_id = ?, updated_at = ? WHERE {abandoned}"
        f" RETURNING {RUN_COLUMNS}, attempt",
        [worker_id, stamp, *args],
    )
    spent = []
    for row in rows:
        run = run_of(db, row)
        run["attempt"] = row[9]
        spent.append(run)
    if stale_after is not None:
        fresh, args = db.heartbeat_fresh(stale_after)
        await db.execute(f"DELETE FROM workers WHERE NOT ({fresh})", args)
    return requeued, spent


async def _live(db: Db, stale_after: float) -> set[str]:
    fresh, args = db.heartbeat_fresh(stale_after)
    return {r[0] for r in await db.all(f"SELECT worker_id FROM workers WHERE {fresh}", args)}


async def _release(db: Db, worker_id: str) -> int:
    released = await db.count(
        "UPDATE runs SET status = 'pending', worker_id = NULL,"
        " attempt = CASE WHEN attempt > 0 THEN attempt - 1 ELSE 0 END"
        " WHERE worker_id = ? AND status = 'running'",
        (worker_id,),
    )
    await db.execute("DELETE FROM workers WHERE worker_id = ?", (worker_id,))
    return released


class WorkerTables(Flows):
    worker_id: str
    shared: bool

    async def heartbeat(self) -> None:
        if self.shared:
            await self._read(_heartbeat, self.worker_id)

    async def recover_runs(
        self, *, stale_after: float, max_attempts: int, startup: bool
    ) -> tuple[int, list[Run]]:
        if not self.shared and not startup:
            return 0, []
        stale: Any = stale_after if self.shared else None
        return await self._flow(_recover, self.worker_id, stale, max_attempts)

    async def live_workers(self, stale_after: float) -> set[str]:
        if not self.shared:
            return {self.worker_id}
        return await self._read(_live, stale_after)

    async def release_runs(self) -> int:
        return await self._flow(_release, self.worker_id)
