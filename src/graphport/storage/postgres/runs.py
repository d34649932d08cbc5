"""Runs in PostgreSQL: creation with claim, claims across processes, ends.

"At most one running run per thread, its oldest pending run first" holds across any number of
server processes because every transaction that can start a run, or that a start depends on,
locks the thread's row first (see `connection.py`). Claims lock thread rows `FOR NO KEY UPDATE
SKIP LOCKED`: two processes claiming at once take disjoint threads instead of waiting on each
other, and a thread being changed elsewhere (a run created, finished or cancelled) is simply
left for the next claim. A row lock was chosen over `pg_advisory_xact_lock(hashtext(thread_id))`
because every run's thread has a row (foreign key), row locks cannot collide on a hash, they
can be skipped by the same `SELECT` that picks the candidates, and they vanish with the row.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from graphport.models import Run, Thread, iso
from graphport.storage.base import ClaimResult, QueueEntry, RunFinish, thread_expiry
from graphport.storage.postgres.connection import (
    PostgresBase,
    Tx,
    lock_thread,
    owner_silent,
    thread_busy,
)
from graphport.storage.postgres.guard import delete_checkpoints
from graphport.storage.postgres.rows import (
    RUN_COLUMNS,
    jsonb,
    jsonb_or_null,
    merge_patch,
    run_from_row,
    ts,
)
from graphport.storage.run_rules import check_run_thread, due_of, starts_claimed

# Threads whose oldest pending run is due and that have no running run, oldest run first,
# locked (skipping those another transaction holds).
_CLAIMABLE_THREADS = """
SELECT t.thread_id FROM (
    SELECT DISTINCT ON (thread_id) thread_id, due, run_id FROM runs
    WHERE status = 'pending' ORDER BY thread_id, due, run_id
) first
JOIN threads t ON t.thread_id = first.thread_id
WHERE first.due <= %(now)s
  AND NOT EXISTS (
    SELECT 1 FROM runs o WHERE o.thread_id = first.thread_id AND o.status = 'running')
ORDER BY first.due, first.run_id
LIMIT %(limit)s
FOR NO KEY UPDATE OF t SKIP LOCKED
"""

# Run in a new statement once the threads are locked, so it sees every commit made before.
_CLAIM_RUNS = f"""
UPDATE runs r SET status = 'running', attempt = r.attempt + 1, updated_at = %(stamp)s,
    worker_id = %(worker)s
FROM (
    SELECT DISTINCT ON (thread_id) run_id, due FROM runs
    WHERE thread_id = ANY(%(threads)s) AND status = 'pending' ORDER BY thread_id, due, run_id
) first
WHERE r.run_id = first.run_id AND first.due <= %(now)s
  AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id AND o.status = 'running')
RETURNING {", ".join("r." + c.strip() for c in RUN_COLUMNS.split(","))}, r.due, r.attempt
"""

# Running runs whose process has not heartbeaten for `stale` seconds (or has deregistered).
_ABANDONED = f"runs.status = 'running' AND {owner_silent('runs')}"


async def _outbox(tx: Tx, f: RunFinish, stamp: Any, worker_id: str) -> None:
    """Queue the run's webhook, to be delivered by this process (`worker_id`)."""
    if f.webhook is not None:
        await tx.execute(
            "INSERT INTO webhooks (run_id, thread_id, url, payload, status, attempts,"
            " next_attempt, created_at, updated_at, worker_id)"
            " VALUES (%s, %s, %s, %s, 'pending', 0, %s, %s, %s, %s)"
            " ON CONFLICT (run_id) DO UPDATE SET thread_id = excluded.thread_id,"
            " url = excluded.url, payload = excluded.payload, status = excluded.status,"
            " attempts = excluded.attempts, next_attempt = excluded.next_attempt,"
            " created_at = excluded.created_at, updated_at = excluded.updated_at,"
            " worker_id = excluded.worker_id",
            (
                f.run_id,
                f.thread_id,
                f.webhook[0],
                f.webhook[1],
                time.time(),
                stamp,
                stamp,
                worker_id,
            ),
        )


async def _release_thread(tx: Tx, thread_id: str, stamp: Any) -> None:
    """After a pending run ended without running (thread locked): the thread leaves `busy` if
    nothing else is in flight, and a temporary thread is deleted."""
    if await thread_busy(tx, thread_id):
        return
    await tx.execute(
        "UPDATE threads SET status = CASE WHEN temporary THEN status ELSE"
        " (CASE WHEN interrupts IS NULL OR interrupts = '{}'::jsonb THEN 'idle'"
        " ELSE 'interrupted' END) END, updated_at = %s"
        " WHERE thread_id = %s AND status = 'busy'",
        (stamp, thread_id),
    )
    await tx.execute("DELETE FROM threads WHERE thread_id = %s AND temporary", (thread_id,))


async def _insert_run(tx: Tx, run: Run, due: float, claimed_by: str | None) -> None:
    """Insert a run: pending, or running as the first attempt of `claimed_by`."""
    await tx.execute(
        f"INSERT INTO runs ({RUN_COLUMNS}, due, attempt, worker_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            run["run_id"],
            run["thread_id"],
            run["assistant_id"],
            "running" if claimed_by else run["status"],
            jsonb(run["metadata"]),
            jsonb(run["kwargs"]),
            run["multitask_strategy"],
            ts(run["created_at"]),
            ts(run["updated_at"]),
            due,
            1 if claimed_by else 0,
            claimed_by,
        ),
    )


class RunsMixin(PostgresBase):
    # -- runs --------------------------------------------------------------------------------

    async def create_run(
        self,
        run: Run,
        thread: Thread | None,
        *,
        claim: bool,
        reject_if_busy: bool = False,
        thread_metadata: dict[str, Any] | None = None,
    ) -> bool:
        thread_id = run["thread_id"]
        due = due_of(run)
        async with self._transaction() as tx:
            if thread is not None:
                inserted = await self._insert_new_thread(tx, thread, thread_metadata or {})
                check_run_thread(thread_id, creating=True, exists=not inserted)
                busy = False
            else:
                locked = await lock_thread(tx, thread_id)
                check_run_thread(thread_id, creating=False, exists=locked is not None)
                old_metadata = locked["metadata"] if locked is not None else {}
                busy = await thread_busy(tx, thread_id)
            claimed = starts_claimed(busy=busy, reject_if_busy=reject_if_busy, claim=claim,
                                     due=due, now=time.time())  # fmt: skip
            await _insert_run(tx, run, due, self.worker_id if claimed else None)
            if thread is None:  # a new thread is inserted busy already
                await tx.execute(
                    "UPDATE threads SET status = 'busy', updated_at = %s, metadata = %s"
                    " WHERE thread_id = %s",
                    (
                        ts(run["updated_at"]),
                        jsonb(merge_patch(old_metadata, thread_metadata or {})),
                        thread_id,
                    ),
                )
        if claimed:
            run["status"] = "running"
        return claimed

    async def _insert_new_thread(
        self, tx: Tx, thread: Thread, thread_metadata: dict[str, Any]
    ) -> bool:
        """Insert a run's new thread (its metadata patched with the run's); False when the id
        is taken."""
        temporary = bool(thread.get("temporary"))
        ttl, expires = thread_expiry(None, None if temporary else self.default_ttl, time.time())
        # a new row is invisible to others until commit: it is as good as locked
        cur = await tx.execute(
            "INSERT INTO threads (thread_id, status, metadata, config, temporary,"
            " created_at, updated_at, state_updated_at, ttl, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (thread_id) DO NOTHING",
            (
                thread["thread_id"],
                thread["status"],
                jsonb(merge_patch(thread["metadata"], thread_metadata)),
                jsonb(thread["config"]),
                temporary,
                ts(thread["created_at"]),
                ts(thread["updated_at"]),
                ts(thread["state_updated_at"]),
                jsonb_or_null(ttl),
                expires,
            ),
        )
        if cur.rowcount == 0:
            return False
        if not temporary:  # a new thread has no state (see create_thread)
            await delete_checkpoints(tx, thread["thread_id"])
        return True

    async def claim_runs(self, limit: int, now: float) -> ClaimResult:
        claimed: list[tuple[float, str, Run]] = []
        async with self._transaction() as tx:
            if limit > 0:
                cur = await tx.execute(_CLAIMABLE_THREADS, {"now": now, "limit": limit})
                threads = [r["thread_id"] for r in await cur.fetchall()]
                if threads:
                    cur = await tx.execute(
                        _CLAIM_RUNS,
                        {
                            "threads": threads,
                            "now": now,
                            "stamp": ts(iso()),
                            "worker": self.worker_id,
                        },
                    )
                    for row in await cur.fetchall():
                        run = run_from_row(row)
                        run["attempt"] = row["attempt"]
                        claimed.append((row["due"], row["run_id"], run))
            cur = await tx.execute(
                "SELECT min(due) AS due FROM runs WHERE status = 'pending' AND due > %s", (now,)
            )
            nxt = await cur.fetchone()
            # threads skipped because another transaction held them are reported too
            cur = await tx.execute(
                "SELECT DISTINCT thread_id FROM runs WHERE status = 'pending' AND due <= %s",
                (now,),
            )
            waiting = {r["thread_id"] for r in await cur.fetchall()}
        claimed.sort(key=lambda c: (c[0], c[1]))
        return ClaimResult([run for _, _, run in claimed], nxt["due"] if nxt else None, waiting)

    async def get_run(self, thread_id: str, run_id: str) -> Run | None:
        row = await self._fetchone(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = %s AND thread_id = %s",
            (run_id, thread_id),
        )
        return run_from_row(row) if row else None

    async def get_run_thread(self, run_id: str) -> str | None:
        row = await self._fetchone("SELECT thread_id FROM runs WHERE run_id = %s", (run_id,))
        return str(row["thread_id"]) if row else None

    async def get_run_result(self, run_id: str) -> tuple[str, bytes | None] | None:
        row = await self._fetchone("SELECT status, result FROM runs WHERE run_id = %s", (run_id,))
        return (row["status"], row["result"]) if row else None

    async def list_runs(
        self, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[Run]:
        sql = f"SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = %s"
        args: list[Any] = [thread_id]
        if status:
            sql += " AND status = %s"
            args.append(status)
        sql += " ORDER BY created_at DESC, run_id DESC LIMIT %s OFFSET %s"
        return [run_from_row(r) for r in await self._fetchall(sql, [*args, limit, offset])]

    async def finish_run(self, finish: RunFinish) -> None:
        f = finish
        stamp = ts(iso())
        async with self._transaction() as tx:
            if f.delete_thread:
                # the thread row first (its runs go by ON DELETE CASCADE): the lock order
                await tx.execute("DELETE FROM threads WHERE thread_id = %s", (f.thread_id,))
                await _outbox(tx, f, stamp, self.worker_id)
                return
            await lock_thread(tx, f.thread_id)
            if f.delete_run:
                await tx.execute("DELETE FROM runs WHERE run_id = %s", (f.run_id,))
            else:
                await tx.execute(
                    "UPDATE runs SET status = %s, result = %s, updated_at = %s WHERE run_id = %s",
                    (f.status, f.result, stamp, f.run_id),
                )
            busy = await thread_busy(tx, f.thread_id)
            await tx.execute(
                'UPDATE threads SET status = %s, "values" = %s, interrupts = %s, error = %s,'
                " updated_at = %s, state_updated_at = %s WHERE thread_id = %s",
                (
                    "busy" if busy else f.thread_status,
                    jsonb_or_null(f.thread_values),
                    jsonb(f.thread_interrupts),
                    jsonb_or_null(f.thread_error),
                    stamp,
                    stamp,
                    f.thread_id,
                ),
            )
            await _outbox(tx, f, stamp, self.worker_id)

    async def heartbeat(self) -> None:
        async with self._transaction(atomic=False) as tx:
            await tx.execute(
                "INSERT INTO workers (worker_id, host, pid) VALUES (%s, %s, %s)"
                " ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now()",
                (self.worker_id, socket.gethostname(), os.getpid()),
            )

    async def recover_runs(
        self, *, stale_after: float, max_attempts: int, startup: bool
    ) -> tuple[int, list[Run]]:
        args = {"stale": stale_after, "max": max_attempts, "me": self.worker_id, "stamp": ts(iso())}
        async with self._transaction() as tx:
            # Requeueing a running run cannot break "one running run per thread", so no thread
            # lock is needed; concurrent recoveries serialise on the run rows, and the second
            # one re-checks the condition and finds the run pending (or owned by a live process).
            cur = await tx.execute(
                "UPDATE runs SET status = 'pending', worker_id = NULL, updated_at = %(stamp)s"
                f" WHERE {_ABANDONED} AND attempt < %(max)s",
                args,
            )
            requeued = cur.rowcount
            cur = await tx.execute(
                f"UPDATE runs SET worker_id = %(me)s, updated_at = %(stamp)s WHERE {_ABANDONED}"
                f" RETURNING {RUN_COLUMNS}, attempt",
                args,
            )
            spent = []
            for row in await cur.fetchall():
                run = run_from_row(row)
                run["attempt"] = row["attempt"]
                spent.append(run)
            await tx.execute(
                "DELETE FROM workers WHERE heartbeat_at < now() - make_interval(secs => %(stale)s)",
                args,
            )
        return requeued, spent

    async def live_workers(self, stale_after: float) -> set[str]:
        rows = await self._fetchall(
            "SELECT worker_id FROM workers WHERE heartbeat_at > now() - make_interval(secs => %s)",
            (stale_after,),
        )
        return {r["worker_id"] for r in rows}

    async def release_runs(self) -> int:
        async with self._transaction() as tx:
            cur = await tx.execute(
                "UPDATE runs SET status = 'pending', worker_id = NULL,"
                " attempt = greatest(attempt - 1, 0)"
                " WHERE worker_id = %s AND status = 'running'",
                (self.worker_id,),
            )
            released = cur.rowcount  # (the cursor is reused below)
            await tx.execute("DELETE FROM workers WHERE worker_id = %s", (self.worker_id,))
            return released

    async def inflight_runs(self, thread_id: str) -> list[Run]:
        rows = await self._fetchall(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = %s"
            " AND status IN ('pending', 'running') ORDER BY due, run_id",
            (thread_id,),
        )
        return [run_from_row(r) for r in rows]

    async def runs_with_status(self, statuses: list[str]) -> list[Run]:
        rows = await self._fetchall(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE status = ANY(%s)", (list(statuses),)
        )
        return [run_from_row(r) for r in rows]

    async def queue(self) -> list[QueueEntry]:
        rows = await self._fetchall(
            "SELECT run_id, thread_id, status, extract(epoch FROM created_at) AS created FROM runs"
            " WHERE status IN ('pending', 'running')",
            (),
        )
        return [
            QueueEntry(str(r["run_id"]), str(r["thread_id"]), r["status"], float(r["created"]))
            for r in rows
        ]

    async def cancel_pending_run(self, run_id: str, *, delete: bool, result: bytes) -> bool:
        stamp = ts(iso())
        async with self._transaction() as tx:
            cur = await tx.execute(
                "SELECT thread_id FROM runs WHERE run_id = %s AND status = 'pending'", (run_id,)
            )
            row = await cur.fetchone()
            if row is None:
                return False
            thread_id = row["thread_id"]
            await lock_thread(tx, thread_id)
            # checked again under the lock: a claim may have started it meanwhile
            cur = await tx.execute(
                "SELECT 1 FROM runs WHERE run_id = %s AND status = 'pending'", (run_id,)
            )
            if await cur.fetchone() is None:
                return False
            if delete:
                await tx.execute("DELETE FROM runs WHERE run_id = %s", (run_id,))
            else:
                await tx.execute(
                    "UPDATE runs SET status = 'interrupted', result = %s, updated_at = %s"
                    " WHERE run_id = %s",
                    (result, stamp, run_id),
                )
            await _release_thread(tx, thread_id, stamp)
            return True

    async def delete_run(self, thread_id: str, run_id: str) -> bool:
        async with self._transaction(atomic=False) as tx:
            cur = await tx.execute(
                "DELETE FROM runs WHERE run_id = %s AND thread_id = %s", (run_id, thread_id)
            )
            return cur.rowcount > 0
