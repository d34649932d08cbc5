"""The one thread that owns graphport's SQLite connection, and the base of the mixins.

All of graphport's own reads and writes go through this thread (datasette's single-writer
pattern). It takes every operation queued while it was busy and runs them in one transaction
(group commit); if one fails, the batch is replayed one transaction per operation, so a failing
operation rolls back alone. The waiting coroutines are woken once per batch. Operations run in
the order they were submitted, so a read always sees every write submitted before it.

Several processes on one file (`shared`) take turns through a lock file (`<file>.write-lock`,
`flock`) around each transaction: a process waiting for the database then sleeps in the kernel
and wakes the moment the other commits. Left to SQLite's busy handler, it would poll with
sleeps of 1 ms and more, and two processes spent most of their time waiting out those sleeps
(issue 15, goal 2: the second process added little). The WAL is copied into the database
file by a thread of its own (wal.py), not inside a commit.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from graphport.storage.db import run_now
from graphport.storage.sqlite.db import SqliteDb
from graphport.storage.sqlite.wal import WalCheckpointer
from graphport.storage.tables.flows import Flow, Flows

T = TypeVar("T")


class Connection(threading.Thread):
    """The one thread that owns graphport's SQLite connection."""

    def __init__(self, path: str, *, shared: bool = False) -> None:
        super().__init__(name="graphport-sqlite", daemon=True)
        self.path = path
        self.shared = shared
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # first: switching to WAL waits for another process's lock instead of failing
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            return
        lock = (
            os.open(f"{self.path}.write-lock", os.O_CREAT | os.O_RDWR, 0o600)
            if self.shared
            else None
        )
        wal: WalCheckpointer | None = None
        pause = threading.Lock()  # held for each batch; the WAL checkpointer takes it to copy
        if self.path != ":memory:":
            conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's work (wal.py)
            wal = WalCheckpointer(self.path, pause, lock)
            wal.start()
        self.ready.set()
        get, get_nowait = self.queue.get, self.queue.get_nowait
        while True:
            item = get()
            if item is None:
                break
            pause.acquire()
            if lock is not None:  # what arrives meanwhile joins this batch
                fcntl.flock(lock, fcntl.LOCK_EX)  # waits without holding the GIL
            batch = [item]
            while True:
                try:
                    nxt = get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.queue.put(None)
                    break
                batch.append(nxt)
            try:
                self._run_batch(conn, batch)
            finally:
                if lock is not None:
                    fcntl.flock(lock, fcntl.LOCK_UN)
                pause.release()
            if wal is not None:
                if wal.is_alive():
                    wal.written.set()
                else:  # it failed: SQLite checkpoints in the commits again
                    conn.execute("PRAGMA wal_autocheckpoint=1000")
                    wal = None
        if wal is not None:
            wal.stop()  # before the last connection closes: that close checkpoints the rest
        conn.close()
        if lock is not None:
            os.close(lock)

    @staticmethod
    def _run_batch(conn: sqlite3.Connection, batch: list[Any]) -> None:
        # Optimistically run the whole batch in one transaction; if an operation raises, roll
        # back and run each operation in a transaction of its own, so one failure (a conflict,
        # a bad row) never undoes the others.
        try:
            done = _in_transaction(conn, batch, stop_on_error=True)
        except _Retry:
            done = []
            for item in batch:
                done += _in_transaction(conn, [item], stop_on_error=False)
        by_loop: dict[Any, list[Any]] = {}
        for loop, fut, result, exc in done:
            if fut is not None:
                by_loop.setdefault(loop, []).append((fut, result, exc))
        for loop, items in by_loop.items():
            loop.call_soon_threadsafe(_resolve, items)


class _Retry(Exception):
    """An operation of an optimistic batch failed: the batch must be replayed one by one."""


def _in_transaction(
    conn: sqlite3.Connection, batch: list[Any], *, stop_on_error: bool
) -> list[tuple[Any, Any, Any, BaseException | None]]:
    done: list[tuple[Any, Any, Any, BaseException | None]] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for fn, loop, fut in batch:
            try:
                done.append((loop, fut, fn(conn), None))
            except Exception as exc:
                if stop_on_error:
                    raise _Retry from exc
                conn.rollback()
                return [(loop, fut, None, exc)]
        conn.execute("COMMIT")
    except _Retry:
        conn.rollback()
        raise
    except BaseException as exc:  # BEGIN or COMMIT failed: every operation failed
        if conn.in_transaction:
            conn.rollback()
        return [(loop, fut, None, exc) for _, loop, fut in batch]
    return done


def _resolve(items: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, result, exc in items:
        if fut.cancelled():
            continue
        if exc is None:
            fut.set_result(result)
        else:
            fut.set_exception(exc)


class SqliteBase(Flows):
    """What every SQLite mixin builds on: `_submit` an operation to the connection thread."""

    codec = SqliteDb

    _conn: Connection | None
    # Set by the storage class (see `Storage`).
    path: str
    checkpointer: Any
    default_ttl: dict[str, Any] | None
    shared: bool
    worker_id: str
    stale_after: float

    def _submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        assert self._conn is not None, "storage is not open"
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._conn.queue.put((fn, loop, fut))
        return fut

    async def _flow(self, flow: Flow[T], *args: Any) -> T:
        db: SqliteDb | None = None

        def op(conn: sqlite3.Connection) -> T:
            nonlocal db
            db = SqliteDb(conn, in_file=self.path != ":memory:")
            return run_now(flow(db, *args))

        result = await self._submit(op)
        for thread_id in db.cleared if db is not None else ():
            self.checkpointer.delete_thread(thread_id)
        return result
