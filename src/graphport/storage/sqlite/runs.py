"""Runs in SQLite: creation with claim, claims, ends."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from datetime import datetime
from typing import Any

from graphport.models import Run, Thread
from graphport.storage.base import ClaimResult, QueueEntry, RunFinish, thread_expiry
from graphport.storage.run_rules import check_run_thread, due_of, starts_claimed
from graphport.storage.sqlite.connection import SqliteBase, owner_silent
from graphport.storage.sqlite.rows import (
    RUN_COLUMNS,
    dumps,
    has_live_runs,
    now_iso,
    run_from_row,
)
from graphport.storage.sqlite.saver import delete_checkpoints


def _run_row(run: Run) -> tuple[Any, ...]:
    return (
        run["run_id"],
        run["thread_id"],
        run["assistant_id"],
        run["status"],
        dumps(run["metadata"]),
        dumps(run["kwargs"]),
        run["multitask_strategy"],
        run["created_at"],
        run["updated_at"],
    )


def _insert_thread(
    conn: sqlite3.Connection, row: tuple[Any, ...], patch: str, *, clear_checkpoints: bool
) -> None:
    """Insert a run's new thread, its metadata patched with the run's (graph_id, ...)."""
    conn.execute(
        "INSERT INTO threads (thread_id, status, metadata, config, temporary,"
        " created_at, updated_at, state_updated_at, ttl, expires_at)"
        " VALUES (?, ?, json_patch(?, ?), ?, ?, ?, ?, ?, ?, ?)",
        (*row[:3], patch, *row[3:]),
    )
    if clear_checkpoints:
        delete_checkpoints(conn, row[0])


class RunsMixin(SqliteBase):
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
        run_row = _run_row(run)
        thread_id, due, patch = run["thread_id"], due_of(run), dumps(thread_metadata or {})
        new_thread = None if thread is None else self._new_thread_row(thread)
        # a new kept thread has no state, whatever a deletion before the guard left: its
        # checkpoints are deleted (in the file, in this transaction; else in the InMemorySaver)
        kept = thread is not None and not thread.get("temporary")
        in_memory = self.path == ":memory:"

        def op(conn: sqlite3.Connection) -> bool:
            exists = conn.execute(
                "SELECT 1 FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            check_run_thread(thread_id, creating=new_thread is not None, exists=bool(exists))
            if new_thread is not None:
                _insert_thread(conn, new_thread, patch, clear_checkpoints=kept and not in_memory)
            busy = new_thread is None and has_live_runs(conn, thread_id)
            claimed = starts_claimed(busy=busy, reject_if_busy=reject_if_busy, claim=claim,
                                     due=due, now=time.time())  # fmt: skip
            row = (*run_row[:3], "running" if claimed else run_row[3], *run_row[4:])
            conn.execute(
                f"INSERT INTO runs ({RUN_COLUMNS}, due, attempt, worker_id) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, due, 1 if claimed else 0, self.worker_id if claimed else None),
            )
            if new_thread is None:  # a new thread is inserted busy already
                conn.execute(
                    "UPDATE threads SET status = 'busy', updated_at = ?, metadata = json_patch("
                    "metadata, ?) WHERE thread_id = ?",
                    (run["updated_at"], patch, thread_id),
                )
            return claimed

        claimed = await self._submit(op)
        if kept and in_memory:
            self.checkpointer.delete_thread(thread_id)
        if claimed:
            run["status"] = "running"
        return claimed

    def _new_thread_row(self, thread: Thread) -> tuple[Any, ...]:
        """The row of a thread a run creates (a temporary one has no TTL)."""
        temporary = bool(thread.get("temporary"))
        ttl, expires = thread_expiry(None, None if temporary else self.default_ttl, time.time())
        return (
            thread["thread_id"],
            thread["status"],
            dumps(thread["metadata"]),
            dumps(thread["config"]),
            int(temporary),
            thread["created_at"],
            thread["updated_at"],
            thread["state_updated_at"],
            dumps(ttl) if ttl else None,
            expires,
        )

    async def claim_runs(self, limit: int, now: float) -> ClaimResult:
        def op(conn: sqlite3.Connection) -> ClaimResult:
            candidates = conn.execute(
                f"SELECT {RUN_COLUMNS}, attempt FROM runs r WHERE status = 'pending' AND due <= ?"
                " AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id"
                " AND o.status = 'running')"
                " AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id"
                " AND o.status = 'pending' AND (o.due < r.due OR (o.due = r.due AND"
                " o.run_id < r.run_id)))"
                " ORDER BY due, run_id LIMIT ?",
                (now, limit),
            ).fetchall()
            claimed = []
            stamp = now_iso()
            for row in candidates:
                conn.execute(
                    "UPDATE runs SET status = 'running', attempt = attempt + 1, updated_at = ?,"
                    " worker_id = ? WHERE run_id = ?",
                    (stamp, self.worker_id, row[0]),
                )
                run = run_from_row(row)
                run["status"] = "running"
                run["attempt"] = row[9] + 1
                claimed.append(run)
            nxt = conn.execute(
                "SELECT min(due) FROM runs WHERE status = 'pending' AND due > ?", (now,)
            ).fetchone()[0]
            waiting = {
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT thread_id FROM runs WHERE status = 'pending' AND due <= ?",
                    (now,),
                )
            }
            return ClaimResult(claimed, nxt, waiting)

        return await self._submit(op)

    async def get_run(self, thread_id: str, run_id: str) -> Run | None:
        def op(conn: sqlite3.Connection) -> Run | None:
            row = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ? AND thread_id = ?",
                (run_id, thread_id),
            ).fetchone()
            return run_from_row(row) if row else None

        return await self._submit(op)

    async def get_run_thread(self, run_id: str) -> str | None:
        def op(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT thread_id FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            return str(row[0]) if row else None

        return await self._submit(op)

    async def get_run_result(self, run_id: str) -> tuple[str, bytes | None] | None:
        def op(conn: sqlite3.Connection) -> tuple[str, bytes | None] | None:
            row = conn.execute(
                "SELECT status, result FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            return (row[0], row[1]) if row else None

        return await self._submit(op)

    async def list_runs(
        self, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[Run]:
        def op(conn: sqlite3.Connection) -> list[Run]:
            sql = f"SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = ?"
            args: list[Any] = [thread_id]
            if status:
                sql += " AND status = ?"
                args.append(status)
            sql += " ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?"
            return [run_from_row(r) for r in conn.execute(sql, [*args, limit, offset])]

        return await self._submit(op)

    async def finish_run(self, finish: RunFinish) -> None:
        f = finish
        stamp = now_iso()

        def outbox(conn: sqlite3.Connection) -> None:
            if f.webhook is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO webhooks (run_id, thread_id, url, payload, status,"
                    " attempts, next_attempt, created_at, updated_at, worker_id)"
                    " VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
                    (
                        f.run_id,
                        f.thread_id,
                        f.webhook[0],
                        f.webhook[1],
                        time.time(),
                        stamp,
                        stamp,
                        self.worker_id,
                    ),
                )

        if f.delete_thread:

            def op(conn: sqlite3.Connection) -> None:
                conn.execute("DELETE FROM runs WHERE thread_id = ?", (f.thread_id,))
                conn.execute("DELETE FROM threads WHERE thread_id = ?", (f.thread_id,))
                outbox(conn)

        else:
            values = dumps(f.thread_values) if f.thread_values is not None else None
            interrupts = dumps(f.thread_interrupts)
            error = dumps(f.thread_error) if f.thread_error is not None else None

            def op(conn: sqlite3.Connection) -> None:
                if f.delete_run:
                    conn.execute("DELETE FROM runs WHERE run_id = ?", (f.run_id,))
                else:
                    conn.execute(
                        "UPDATE runs SET status = ?, result = ?, updated_at = ? WHERE run_id = ?",
                        (f.status, f.result, stamp, f.run_id),
                    )
                busy = has_live_runs(conn, f.thread_id)
                conn.execute(
                    'UPDATE threads SET status = ?, "values" = ?, interrupts = ?, error = ?,'
                    " updated_at = ?, state_updated_at = ? WHERE thread_id = ?",
                    ("busy" if busy else f.thread_status, values, interrupts, error, stamp,
                     stamp, f.thread_id),
                )  # fmt: skip
                outbox(conn)

        await self._submit(op)

    # One process (the default): every running run is abandoned when it starts, and its
    # own afterwards. Several processes on one file (`shared`): as on PostgreSQL, by heartbeat.

    async def heartbeat(self) -> None:
        if not self.shared:
            return
        me, host, pid, now = self.worker_id, socket.gethostname(), os.getpid(), time.time()
        await self._submit(
            lambda conn: conn.execute(
                "INSERT INTO workers (worker_id, host, pid, started_at, heartbeat_at)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                (me, host, pid, now, now),
            )
        )

    async def recover_runs(
        self, *, stale_after: float, max_attempts: int, startup: bool
    ) -> tuple[int, list[Run]]:
        if not self.shared and not startup:
            return 0, []
        # abandoned: running, and (one process) any, or (shared) its process is silent
        cutoff = time.time() - stale_after
        abandoned = "status = 'running'"
        args: tuple[Any, ...] = ()
        if self.shared:
            abandoned += owner_silent("runs")
            args = (cutoff,)

        def op(conn: sqlite3.Connection) -> tuple[int, list[Run]]:
            requeued = conn.execute(
                "UPDATE runs SET status = 'pending', worker_id = NULL"
                f" WHERE {abandoned} AND attempt < ?",
                (*args, max_attempts),
            ).rowcount
            rows = conn.execute(
                f"SELECT {RUN_COLUMNS}, attempt FROM runs WHERE {abandoned}", args
            ).fetchall()
            spent = []
            for row in rows:
                run = run_from_row(row)
                run["attempt"] = row[9]
                spent.append(run)
                conn.execute(  # now this process's to fail
                    "UPDATE runs SET worker_id = ? WHERE run_id = ?", (self.worker_id, row[0])
                )
            if self.shared:
                conn.execute("DELETE FROM workers WHERE heartbeat_at <= ?", (cutoff,))
            return requeued, spent

        return await self._submit(op)

    async def live_workers(self, stale_after: float) -> set[str]:
        if not self.shared:
            return {self.worker_id}
        cutoff = time.time() - stale_after

        def op(conn: sqlite3.Connection) -> set[str]:
            rows = conn.execute("SELECT worker_id FROM workers WHERE heartbeat_at > ?", (cutoff,))
            return {r[0] for r in rows}

        return await self._submit(op)

    async def release_runs(self) -> int:
        mine = " AND worker_id = ?" if self.shared else ""
        args = (self.worker_id,) if self.shared else ()

        def op(conn: sqlite3.Connection) -> int:
            released = conn.execute(
                "UPDATE runs SET status = 'pending', worker_id = NULL,"
                f" attempt = max(attempt - 1, 0) WHERE status = 'running'{mine}",
                args,
            ).rowcount
            conn.execute("DELETE FROM workers WHERE worker_id = ?", (self.worker_id,))
            return released

        return await self._submit(op)

    async def inflight_runs(self, thread_id: str) -> list[Run]:
        def op(conn: sqlite3.Connection) -> list[Run]:
            rows = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = ?"
                " AND status IN ('pending', 'running') ORDER BY due, run_id",
                (thread_id,),
            ).fetchall()
            return [run_from_row(r) for r in rows]

        return await self._submit(op)

    async def runs_with_status(self, statuses: list[str]) -> list[Run]:
        def op(conn: sqlite3.Connection) -> list[Run]:
            marks = ",".join("?" * len(statuses))
            rows = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE status IN ({marks})", statuses
            ).fetchall()
            return [run_from_row(r) for r in rows]

        return await self._submit(op)

    async def queue(self) -> list[QueueEntry]:
        def op(conn: sqlite3.Connection) -> list[QueueEntry]:
            rows = conn.execute(
                "SELECT run_id, thread_id, status, created_at FROM runs"
                " WHERE status IN ('pending', 'running')"
            ).fetchall()
            return [
                QueueEntry(r[0], r[1], r[2], datetime.fromisoformat(r[3]).timestamp()) for r in rows
            ]

        return await self._submit(op)

    async def cancel_pending_run(self, run_id: str, *, delete: bool, result: bytes) -> bool:
        stamp = now_iso()

        def op(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT thread_id FROM runs WHERE run_id = ? AND status = 'pending'", (run_id,)
            ).fetchone()
            if row is None:
                return False
            if delete:
                conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            else:
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', result = ?, updated_at = ?"
                    " WHERE run_id = ?",
                    (result, stamp, run_id),
                )
            busy = has_live_runs(conn, row[0])
            if not busy:
                conn.execute(
                    "UPDATE threads SET status = CASE WHEN temporary = 1 THEN status ELSE"
                    " (CASE WHEN interrupts IS NULL OR interrupts = '{}' THEN 'idle'"
                    " ELSE 'interrupted' END) END, updated_at = ?"
                    " WHERE thread_id = ? AND status = 'busy'",
                    (stamp, row[0]),
                )
                conn.execute("DELETE FROM threads WHERE thread_id = ? AND temporary = 1", (row[0],))
            return True

        return await self._submit(op)

    async def delete_run(self, thread_id: str, run_id: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            deleted = conn.execute(
                "DELETE FROM runs WHERE run_id = ? AND thread_id = ?", (run_id, thread_id)
            )
            return deleted.rowcount > 0

        return await self._submit(op)
