"""Runs: taken in (with their new thread, claimed at once when free), read, ended, cancelled.

"At most one running run per thread, its oldest pending run first" holds across processes
because every transaction that can start a run, or that a start depends on, locks the thread's
row first (`Db.for_no_key_update`; on SQLite, `BEGIN IMMEDIATE` holds the whole database).
Claiming the runs other processes left pending is the backends' own (`claims.py` of each):
that is where their locking differs most.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from graphport.models import Assistant, Run, Thread, iso
from graphport.storage.base import AssistantChanged, QueueEntry, RunFinish, thread_expiry
from graphport.storage.db import Codec, Db
from graphport.storage.run_rules import check_run_thread, due_of, starts_claimed
from graphport.storage.tables.flows import Flows
from graphport.storage.tables.rows import RUN_COLUMNS, merge_patch, run_of, thread_busy

# A thread's status after a change of its runs: busy while one is pending or running, else `?`.
_BUSY_ELSE = (
    "CASE WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = threads.thread_id"
    " AND r.status IN ('pending', 'running')) THEN 'busy' ELSE ? END"
)


async def _locked_metadata(db: Db, thread_id: str) -> dict[str, Any] | None:
    """Lock a thread's row (the rule above) and read its metadata; None if it is absent."""
    row = await db.one(
        f"SELECT metadata FROM threads WHERE thread_id = ?{db.for_no_key_update}", (thread_id,)
    )
    return None if row is None else db.from_json(row[0])


async def _lock_thread(db: Db, thread_id: str) -> None:
    """Lock a thread's row (the rule above) without waiting to read it: the statements after
    it still run once the lock is held, and PostgreSQL sends them along (`Db.execute`)."""
    await db.execute(
        f"SELECT 1 FROM threads WHERE thread_id = ?{db.for_no_key_update}", (thread_id,)
    )


def _thread_row(
    codec: Codec, thread: Thread, patch: dict[str, Any], default_ttl: dict[str, Any] | None
) -> tuple[Any, ...]:
    """The row of a run's new thread, its metadata patched with the run's (a temporary thread
    has no TTL)."""
    temporary = bool(thread.get("temporary"))
    ttl, expires = thread_expiry(None, None if temporary else default_ttl, time.time())
    return (
        thread["thread_id"],
        thread["status"],
        codec.json(merge_patch(thread["metadata"], patch)),
        codec.json(thread["config"]),
        temporary,
        codec.ts(thread["created_at"]),
        codec.ts(thread["updated_at"]),
        codec.ts(thread["state_updated_at"]),
        codec.json(ttl or None),
        expires,
    )


def _run_row(codec: Codec, run: Run) -> tuple[Any, ...]:
    """The run's row but its status (the claim decides it)."""
    return (
        run["run_id"],
        run["thread_id"],
        run["assistant_id"],
        codec.json(run["metadata"]),
        codec.json(run["kwargs"]),
        run["multitask_strategy"],
        codec.ts(run["created_at"]),
        codec.ts(run["updated_at"]),
    )


async def _insert_thread(db: Db, row: tuple[Any, ...], fresh: bool) -> bool:
    """Insert a run's new thread; False if the id is taken. A new row is invisible to others
    until commit: it is as good as locked."""
    inserted = await db.count(
        "INSERT INTO threads (thread_id, status, metadata, config, temporary,"
        " created_at, updated_at, state_updated_at, ttl, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO NOTHING",
        row,
    )
    # a kept new thread has no state, whatever a deletion left (a `fresh` id has none)
    if inserted and not row[4] and not fresh:
        await db.delete_checkpoints(row[0])
    return bool(inserted)


_ASSISTANT_CURRENT = (
    "WHERE EXISTS (SELECT 1 FROM assistants"
    " WHERE assistant_id = ? AND version = ? AND updated_at = ?)"
)


_RUN_INSERT = f"INSERT INTO runs ({RUN_COLUMNS}, due, attempt, worker_id, waited_elsewhere)"
_RUN_MARKS = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
# The thread's row with the types of its columns spelled out: in a SELECT list PostgreSQL
# cannot infer them from the target table, as it does for VALUES.
_TYPED_THREAD = (
    "INSERT INTO threads (thread_id, status, metadata, config, temporary,"
    " created_at, updated_at, state_updated_at, ttl, expires_at)"
    " SELECT ?::text, ?::text, ?::jsonb, ?::jsonb, ?::boolean, ?::timestamptz, ?::timestamptz,"
    " ?::timestamptz, ?::jsonb, ?::double precision"
)


def in_one_statement(codec: Any, thread_row: tuple[Any, ...] | None, fresh: bool) -> bool:
    """Whether a run is created by one statement, atomic without a transaction: a run that
    brings its thread, temporary or with an id made for it (a stateless run, kept or not), on
    a backend that chains inserts."""
    return bool(thread_row is not None and (thread_row[4] or fresh) and codec.chains_inserts)


def _run_values(run: Run, run_row: tuple[Any, ...], due: float, claimed: bool,
                options: dict[str, Any]) -> tuple[Any, ...]:  # fmt: skip
    """The run's row: pending, or running as the first attempt of this process. A run left
    pending where other processes share the database may be executed by one of them while its
    creator waits: it is waited for elsewhere (`mark_waited`)."""
    return (*run_row[:3], "running" if claimed else run["status"], *run_row[3:], due,
            1 if claimed else 0, options["worker_id"] if claimed else None,
            options["shared"] and not claimed)  # fmt: skip


def _guard(db: Db, assistant: Assistant | None) -> tuple[str, tuple[Any, ...]]:
    """The condition that the run's copy of its assistant is current (none without a copy)."""
    if assistant is None:
        return "", ()
    stamp = db.ts(assistant["updated_at"])
    return f" {_ASSISTANT_CURRENT}", (assistant["assistant_id"], assistant["version"], stamp)


async def _create(db: Db, run: Run, rows: tuple[Any, Any], options: dict[str, Any]) -> bool:
    run_row, thread_row = rows
    thread_id, due = run["thread_id"], due_of(run)
    metadata: dict[str, Any] | None = None
    if thread_row is not None:
        inserted = await _insert_thread(db, thread_row, options["fresh_thread"])
        check_run_thread(thread_id, creating=True, exists=not inserted)
        busy = False
    else:
        metadata = await _locked_metadata(db, thread_id)
        check_run_thread(thread_id, creating=False, exists=metadata is not None)
        busy = await thread_busy(db, thread_id)
    claimed = starts_claimed(busy=busy, reject_if_busy=options["reject_if_busy"],
                             claim=options["claim"], due=due, now=time.time())  # fmt: skip
    values = _run_values(run, run_row, due, claimed, options)
    guard, guard_args = _guard(db, options["assistant"])
    if not guard:
        await db.execute(f"{_RUN_INSERT} VALUES ({_RUN_MARKS})", values)
    elif not await db.count(f"{_RUN_INSERT} SELECT {_RUN_MARKS}{guard}", values + guard_args):
        raise AssistantChanged(run["assistant_id"])  # replaced by another process
    if thread_row is None:  # a new thread is inserted busy already
        patch = options["thread_metadata"] or {}
        await db.execute(
            "UPDATE threads SET status = 'busy', updated_at = ?, metadata = ? WHERE thread_id = ?",
            (db.ts(run["updated_at"]), db.json(merge_patch(metadata, patch)), thread_id),
        )
    return claimed


async def _create_with_thread(
    db: Db, run: Run, rows: tuple[Any, Any], options: dict[str, Any]
) -> bool:
    """The run and its temporary thread in one statement: the thread's insert is a CTE (with
    the assistant's check, so that both or neither are written), the run's selects from it."""
    run_row, thread_row = rows
    thread_id, due = run["thread_id"], due_of(run)
    claimed = starts_claimed(busy=False, reject_if_busy=False, claim=options["claim"], due=due,
                             now=time.time())  # fmt: skip
    guard, guard_args = _guard(db, options["assistant"])
    sql = (
        f"WITH thread AS ({_TYPED_THREAD}{guard}"
        " ON CONFLICT (thread_id) DO NOTHING RETURNING thread_id)"
        f" {_RUN_INSERT} SELECT {_RUN_MARKS} FROM thread"
    )
    values = _run_values(run, run_row, due, claimed, options)
    if await db.count(sql, (*thread_row, *guard_args, *values)):
        return claimed
    taken = await db.one("SELECT 1 FROM threads WHERE thread_id = ?", (thread_id,))
    check_run_thread(thread_id, creating=True, exists=taken is not None)
    raise AssistantChanged(run["assistant_id"])


async def _outbox(db: Db, f: RunFinish, stamp: str, worker_id: str) -> None:
    """Queue the run's webhook, to be delivered by this process (`worker_id`)."""
    if f.webhook is None:
        return
    await db.execute(
        "INSERT INTO webhooks (run_id, thread_id, url, payload, status, attempts,"
        " next_attempt, created_at, updated_at, worker_id)"
        " VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)"
        " ON CONFLICT (run_id) DO UPDATE SET thread_id = excluded.thread_id,"
        " url = excluded.url, payload = excluded.payload, status = excluded.status,"
        " attempts = excluded.attempts, next_attempt = excluded.next_attempt,"
        " created_at = excluded.created_at, updated_at = excluded.updated_at,"
        " worker_id = excluded.worker_id",
        (f.run_id, f.thread_id, f.webhook[0], f.webhook[1], time.time(), db.ts(stamp),
         db.ts(stamp), worker_id),
    )  # fmt: skip


# A temporary thread and its run in one statement, the thread's row locked first (the rule
# above), returning whether another process waits for the run: for backends that chain
# data-modifying statements (PostgreSQL), atomic without BEGIN and COMMIT.
_DELETE_TEMPORARY = (
    "WITH locked AS (SELECT thread_id FROM threads WHERE thread_id = ? FOR NO KEY UPDATE),"
    " run AS (DELETE FROM runs WHERE run_id = ? AND thread_id IN (SELECT thread_id FROM locked)"
    " RETURNING waited_elsewhere)"
    " DELETE FROM threads WHERE thread_id IN (SELECT thread_id FROM locked)"
    " RETURNING (SELECT bool_or(waited_elsewhere) FROM run)"
)


async def _delete_temporary(db: Db, f: RunFinish, shared: bool) -> bool:
    """Delete a stateless run's thread (its runs go by ON DELETE CASCADE); whether another
    process waits for the run (only asked where processes share the database)."""
    if not shared:
        await db.execute("DELETE FROM threads WHERE thread_id = ?", (f.thread_id,))
        return False
    if db.chains_inserts:
        row = await db.one(_DELETE_TEMPORARY, (f.thread_id, f.run_id))
        return bool(row and row[0])
    await _lock_thread(db, f.thread_id)
    row = await db.one("DELETE FROM runs WHERE run_id = ? RETURNING waited_elsewhere", (f.run_id,))
    await db.execute("DELETE FROM threads WHERE thread_id = ?", (f.thread_id,))
    return bool(row and row[0])


async def _end_run(db: Db, f: RunFinish, stamp: str, shared: bool) -> bool:
    """Record the run's end (its thread locked); whether another process waits for it. Only
    where processes share the database is the answer waited for (PostgreSQL's pipeline)."""
    args: tuple[Any, ...]
    if f.delete_run:
        sql, args = "DELETE FROM runs WHERE run_id = ?", (f.run_id,)
    else:
        sql = "UPDATE runs SET status = ?, result = ?, updated_at = ? WHERE run_id = ?"
        args = (f.status, f.result, db.ts(stamp), f.run_id)
    if not shared:
        await db.execute(sql, args)
        return False
    row = await db.one(f"{sql} RETURNING waited_elsewhere", args)
    return bool(row and row[0])


def _ends_alone(codec: Any, f: RunFinish, shared: bool) -> bool:
    """Whether a run's end is one statement, atomic without a transaction: a stateless run's
    (one DELETE) without a webhook to queue, where nothing else waits for it or the backend
    asks in the same statement."""
    return f.delete_thread and f.webhook is None and (not shared or codec.chains_inserts)


async def _finish(db: Db, f: RunFinish, worker_id: str, shared: bool) -> bool:
    stamp = iso()
    if f.delete_thread:
        waited = await _delete_temporary(db, f, shared)
        await _outbox(db, f, stamp, worker_id)
        return waited
    await _lock_thread(db, f.thread_id)
    waited = await _end_run(db, f, stamp, shared)
    # the thread stays busy while another run is in flight: checked in the UPDATE itself,
    # a new statement after the lock (the rule above), which saves a round trip
    await db.execute(
        f'UPDATE threads SET status = {_BUSY_ELSE}, "values" = ?, interrupts = ?, error = ?,'
        " updated_at = ?, state_updated_at = ? WHERE thread_id = ?",
        (f.thread_status, db.json(f.thread_values), db.json(f.thread_interrupts),
         db.json(f.thread_error), db.ts(stamp), db.ts(stamp), f.thread_id),
    )  # fmt: skip
    await _outbox(db, f, stamp, worker_id)
    return waited


async def _release_thread(db: Db, thread_id: str, stamp: str) -> None:
    """After a pending run ended without running (thread locked): the thread leaves `busy` if
    nothing else is in flight, and a temporary thread is deleted."""
    if await thread_busy(db, thread_id):
        return
    await db.execute(
        "UPDATE threads SET status = CASE WHEN temporary THEN status ELSE"
        " (CASE WHEN interrupts IS NULL OR interrupts = '{}' THEN 'idle'"
        " ELSE 'interrupted' END) END, updated_at = ? WHERE thread_id = ? AND status = 'busy'",
        (db.ts(stamp), thread_id),
    )
    await db.execute("DELETE FROM threads WHERE thread_id = ? AND temporary", (thread_id,))


async def _cancel_pending(db: Db, run_id: str, delete: bool, result: bytes) -> bool:
    pending = "SELECT thread_id FROM runs WHERE run_id = ? AND status = 'pending'"
    row = await db.one(pending, (run_id,))
    if row is None:
        return False
    thread_id = row[0]
    await _lock_thread(db, thread_id)
    # checked again under the lock: a claim may have started it meanwhile
    if await db.one(pending, (run_id,)) is None:
        return False
    stamp = iso()
    if delete:
        await db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
    else:
        await db.execute(
            "UPDATE runs SET status = 'interrupted', result = ?, updated_at = ? WHERE run_id = ?",
            (result, db.ts(stamp), run_id),
        )
    await _release_thread(db, thread_id, stamp)
    return True


_RESULT_OF = "SELECT status, result FROM runs WHERE run_id = ?"


def _result(row: Any) -> tuple[str, bytes | None] | None:
    """A run's (status, result body) from its row, None for no row."""
    return (row[0], None if row[1] is None else bytes(row[1])) if row else None


async def _mark_waited(db: Db, run_id: str) -> Any:
    """Flag an in-flight run as waited for elsewhere, and read its (status, result). The run's
    end locks its row too, so either the flag is set first and the end sees it, or the end
    comes first and the status read here is terminal."""
    marked = await db.one(
        "UPDATE runs SET waited_elsewhere = TRUE"
        " WHERE run_id = ? AND status IN ('pending', 'running') RETURNING status, result",
        (run_id,),
    )
    return marked or await db.one(_RESULT_OF, (run_id,))


async def _runs(db: Db, where: str, args: list[Any]) -> list[Run]:
    return [run_of(db, r) for r in await db.all(f"SELECT {RUN_COLUMNS} FROM runs {where}", args)]


async def _one(db: Db, sql: str, args: tuple[Any, ...]) -> Any:
    return await db.one(sql, args)


async def _queue(db: Db) -> list[QueueEntry]:
    rows = await db.all(
        "SELECT run_id, thread_id, status, created_at FROM runs"
        " WHERE status IN ('pending', 'running')"
    )
    return [
        QueueEntry(r[0], r[1], r[2], datetime.fromisoformat(db.from_ts(r[3])).timestamp())
        for r in rows
    ]


async def _delete(db: Db, thread_id: str, run_id: str) -> bool:
    sql = "DELETE FROM runs WHERE run_id = ? AND thread_id = ?"
    return await db.count(sql, (run_id, thread_id)) > 0


class RunTables(Flows):
    """The run methods of `Storage` every backend shares."""

    worker_id: str
    default_ttl: dict[str, Any] | None
    shared: bool
    _assistant_cache: dict[str, Assistant]

    async def create_run(
        self,
        run: Run,
        thread: Thread | None,
        *,
        claim: bool,
        reject_if_busy: bool = False,
        thread_metadata: dict[str, Any] | None = None,
        assistant: Assistant | None = None,
        fresh_thread: bool = False,
    ) -> bool:
        # encoded here, before the transaction: the run's input is the heaviest part of taking
        # it in, and SQLite's transaction runs on its one connection thread
        patch = thread_metadata or {}
        rows = (
            _run_row(self.codec, run),
            None if thread is None else _thread_row(self.codec, thread, patch, self.default_ttl),
        )
        options = {"claim": claim, "reject_if_busy": reject_if_busy, "worker_id": self.worker_id,
                   "thread_metadata": thread_metadata, "shared": self.shared,
                   "fresh_thread": fresh_thread,
                   "assistant": assistant if self.shared else None}  # fmt: skip
        # A single statement is atomic alone: it needs no transaction around it.
        one_statement = in_one_statement(self.codec, rows[1], fresh_thread)
        run_in, flow = (self._read, _create_with_thread) if one_statement else (self._flow, _create)
        try:
            claimed = await run_in(flow, run, rows, options)
        except AssistantChanged:
            self._assistant_cache.pop(run["assistant_id"], None)
            raise
        if claimed:
            run["status"] = "running"
        return claimed

    async def get_run(self, thread_id: str, run_id: str) -> Run | None:
        runs = await self._read(_runs, "WHERE run_id = ? AND thread_id = ?", [run_id, thread_id])
        return runs[0] if runs else None

    async def get_run_thread(self, run_id: str) -> str | None:
        row = await self._read(_one, "SELECT thread_id FROM runs WHERE run_id = ?", (run_id,))
        return str(row[0]) if row else None

    async def get_run_result(self, run_id: str) -> tuple[str, bytes | None] | None:
        return _result(await self._read(_one, _RESULT_OF, (run_id,)))

    async def list_runs(
        self, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[Run]:
        where, args = "WHERE thread_id = ?", [thread_id]
        if status:
            where += " AND status = ?"
            args.append(status)
        where += " ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?"
        return await self._read(_runs, where, [*args, limit, offset])

    async def finish_run(self, finish: RunFinish) -> bool:
        run_in = self._read if _ends_alone(self.codec, finish, self.shared) else self._flow
        return await run_in(_finish, finish, self.worker_id, self.shared)

    async def mark_waited(self, run_id: str) -> tuple[str, bytes | None] | None:
        if not self.shared:
            return await self.get_run_result(run_id)
        return _result(await self._flow(_mark_waited, run_id))

    async def inflight_runs(self, thread_id: str) -> list[Run]:
        where = "WHERE thread_id = ? AND status IN ('pending', 'running') ORDER BY due, run_id"
        return await self._read(_runs, where, [thread_id])

    async def runs_with_status(self, statuses: list[str]) -> list[Run]:
        marks = ",".join("?" * len(statuses))
        return await self._read(_runs, f"WHERE status IN ({marks})", list(statuses))

    async def queue(self) -> list[QueueEntry]:
        return await self._read(_queue)

    async def cancel_pending_run(self, run_id: str, *, delete: bool, result: bytes) -> bool:
        return await self._flow(_cancel_pending, run_id, delete, result)

    async def delete_run(self, thread_id: str, run_id: str) -> bool:
        return await self._read(_delete, thread_id, run_id)
