"""SqliteStorage: the embedded default, one file beside langgraph.json.

All of graphport's own reads and writes go through one thread that owns one connection
(datasette's single-writer pattern). It takes every operation queued while it was busy and runs
them in one transaction (group commit), each inside a savepoint so a failing operation rolls back
alone; the waiting coroutines are woken once per batch. Operations run in the order they were
submitted, so a read always sees every write submitted before it.

Checkpoints and the store are langgraph-checkpoint-sqlite's own savers on their own connections
to the same file (WAL mode, busy timeout), or in-memory savers for a ':memory:' database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from graphport import errors
from graphport.models import Assistant, Run, Thread, iso
from graphport.storage.base import PendingWebhook, RunFinish, Storage, WebhookAttempt

log = logging.getLogger(__name__)
T = TypeVar("T")

# Append-only: index + 1 = schema version. Never edit a released entry.
MIGRATIONS = [
    """
    CREATE TABLE assistants (
        assistant_id TEXT PRIMARY KEY,
        graph_id TEXT NOT NULL,
        config TEXT NOT NULL,
        context TEXT NOT NULL,
        metadata TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE threads (
        thread_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL,
        config TEXT NOT NULL,
        "values" TEXT,
        interrupts TEXT,
        error TEXT,
        temporary INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        state_updated_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL REFERENCES threads(thread_id) ON DELETE CASCADE,
        assistant_id TEXT NOT NULL,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL,
        kwargs TEXT NOT NULL,
        multitask_strategy TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        due REAL NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        result BLOB
    );
    CREATE INDEX runs_by_thread ON runs (thread_id, created_at);
    CREATE INDEX runs_by_status ON runs (status, due);
    """,
    """
    CREATE TABLE webhooks (
        run_id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        url TEXT NOT NULL,
        payload BLOB NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX webhooks_by_status ON webhooks (status, next_attempt);
    CREATE TABLE webhook_attempts (
        run_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        url TEXT NOT NULL,
        at TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms REAL NOT NULL,
        PRIMARY KEY (run_id, attempt)
    );
    """,
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE feedback (
        feedback_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        score REAL,
        value TEXT,
        comment TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, key)
    );
    """,
]

_RUN_COLUMNS = (
    "run_id, thread_id, assistant_id, status, metadata, kwargs, multitask_strategy, "
    "created_at, updated_at"
)
_THREAD_COLUMNS = (
    'thread_id, status, metadata, config, "values", interrupts, error, created_at, updated_at, '
    "state_updated_at"
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _run_from_row(row: tuple[Any, ...]) -> Run:
    return {
        "run_id": row[0],
        "thread_id": row[1],
        "assistant_id": row[2],
        "metadata": orjson.loads(row[4]),
        "status": row[3],
        "kwargs": orjson.loads(row[5]),
        "multitask_strategy": row[6],
        "created_at": row[7],
        "updated_at": row[8],
        "langsmith_session_name": None,
    }


def _thread_from_row(row: tuple[Any, ...]) -> Thread:
    thread: Thread = {
        "thread_id": row[0],
        "status": row[1],
        "metadata": orjson.loads(row[2]),
        "config": orjson.loads(row[3]),
        "created_at": row[7],
        "updated_at": row[8],
        "state_updated_at": row[9],
        "values": orjson.loads(row[4]) if row[4] is not None else None,
    }
    if row[5] is not None:  # a run has finished on this thread
        thread["error"] = orjson.loads(row[6]) if row[6] is not None else None
        thread["interrupts"] = orjson.loads(row[5])
    return thread


def _assistant_from_row(row: tuple[Any, ...]) -> Assistant:
    return {
        "assistant_id": row[0],
        "graph_id": row[1],
        "config": orjson.loads(row[2]),
        "context": orjson.loads(row[3]),
        "metadata": orjson.loads(row[4]),
        "name": row[5],
        "description": row[6],
        "created_at": row[8],
        "updated_at": row[9],
        "version": row[7],
    }


class _Connection(threading.Thread):
    """The one thread that owns graphport's SQLite connection."""

    def __init__(self, path: str) -> None:
        super().__init__(name="graphport-sqlite", daemon=True)
        self.path = path
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        get, get_nowait = self.queue.get, self.queue.get_nowait
        while True:
            item = get()
            if item is None:
                break
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
            self._run_batch(conn, batch)
        conn.close()

    @staticmethod
    def _run_batch(conn: sqlite3.Connection, batch: list[Any]) -> None:
        done: list[tuple[Any, asyncio.Future[Any] | None, Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, loop, fut in batch:
                conn.execute("SAVEPOINT op")
                try:
                    result = fn(conn)
                except BaseException as exc:
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    done.append((loop, fut, None, exc))
                else:
                    conn.execute("RELEASE op")
                    done.append((loop, fut, result, None))
            conn.execute("COMMIT")
        except BaseException as exc:  # the commit itself failed: every operation failed
            if conn.in_transaction:
                conn.rollback()
            done = [(loop, fut, None, exc) for _, loop, fut in batch]
        by_loop: dict[Any, list[Any]] = {}
        for loop, fut, result, exc in done:
            if fut is not None:
                by_loop.setdefault(loop, []).append((fut, result, exc))
        for loop, items in by_loop.items():
            loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, result, exc in items:
        if fut.cancelled():
            continue
        if exc is None:
            fut.set_result(result)
        else:
            fut.set_exception(exc)


class SqliteStorage(Storage):
    def __init__(self, path: str) -> None:
        self.path = path
        self.location = "in memory (lost when the server stops)" if path == ":memory:" else path
        self._conn: _Connection | None = None
        self._saver_conn: Any = None
        self._store_conn: Any = None

    # -- plumbing ----------------------------------------------------------------------------

    def _submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        assert self._conn is not None, "storage is not open"
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._conn.queue.put((fn, loop, fut))
        return fut

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = _Connection(self.path)
        self._conn.start()
        await asyncio.to_thread(self._conn.ready.wait)
        if self._conn.error is not None:
            raise self._conn.error
        await self._submit(_migrate)
        if self.path == ":memory:":
            from langgraph.checkpoint.memory import InMemorySaver
            from langgraph.store.memory import InMemoryStore

            self.checkpointer = InMemorySaver()
            self.store = InMemoryStore()
            return
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
        from langgraph.store.sqlite.aio import AsyncSqliteStore

        self._saver_conn = await aiosqlite.connect(self.path, isolation_level=None)
        await self._saver_conn.execute("PRAGMA busy_timeout=10000")
        await self._saver_conn.execute("PRAGMA synchronous=NORMAL")
        self.checkpointer = AsyncSqliteSaver(self._saver_conn)
        await self.checkpointer.setup()
        self._store_conn = await aiosqlite.connect(self.path, isolation_level=None)
        await self._store_conn.execute("PRAGMA busy_timeout=10000")
        self.store = AsyncSqliteStore(self._store_conn)
        await self.store.setup()

    async def close(self) -> None:
        for conn in (self._saver_conn, self._store_conn):
            if conn is not None:
                await conn.close()
        if self._conn is not None:
            self._conn.queue.put(None)
            await asyncio.to_thread(self._conn.join, 10)
            self._conn = None

    # -- assistants --------------------------------------------------------------------------

    async def sync_system_assistant(self, assistant: Assistant) -> None:
        a = assistant

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name,"
                " description, version, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (assistant_id) DO UPDATE SET name = excluded.name,"
                " description = excluded.description"
                " WHERE name IS NOT excluded.name OR description IS NOT excluded.description",
                (
                    a["assistant_id"],
                    a["graph_id"],
                    _dumps(a["config"]),
                    _dumps(a["context"]),
                    _dumps(a["metadata"]),
                    a["name"],
                    a["description"],
                    a["version"],
                    a["created_at"],
                    a["updated_at"],
                ),
            )

        await self._submit(op)

    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        def op(conn: sqlite3.Connection) -> Assistant | None:
            row = conn.execute(
                "SELECT * FROM assistants WHERE assistant_id = ?", (assistant_id,)
            ).fetchone()
            return _assistant_from_row(row) if row else None

        return await self._submit(op)

    async def search_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: dict[str, Any] | None,
        limit: int,
        offset: int,
        sort_by: str,
        sort_order: str,
    ) -> tuple[list[Assistant], int]:
        def op(conn: sqlite3.Connection) -> tuple[list[Assistant], int]:
            where, args = ["1=1"], []
            if graph_id is not None:
                where.append("graph_id = ?")
                args.append(graph_id)
            if name is not None:
                where.append("name LIKE ? ESCAPE '\\'")
                args.append("%" + name.replace("%", "\\%").replace("_", "\\_") + "%")
            for key, value in (metadata or {}).items():
                where.append("json_extract(metadata, ?) = json(?)")
                args += [f'$."{key}"', _dumps(value)]
            rows = conn.execute(
                f"SELECT * FROM assistants WHERE {' AND '.join(where)}"
                f" ORDER BY {sort_by} {sort_order}",
                args,
            ).fetchall()
            return [_assistant_from_row(r) for r in rows[offset : offset + limit]], len(rows)

        return await self._submit(op)

    # -- threads -----------------------------------------------------------------------------

    async def get_thread(self, thread_id: str) -> Thread | None:
        def op(conn: sqlite3.Connection) -> Thread | None:
            row = conn.execute(
                f"SELECT {_THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            return _thread_from_row(row) if row else None

        return await self._submit(op)

    async def delete_thread(self, thread_id: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM runs WHERE thread_id = ?", (thread_id,))
            return (
                conn.execute("DELETE FROM threads WHERE thread_id = ?", (thread_id,)).rowcount > 0
            )

        return await self._submit(op)

    # -- runs --------------------------------------------------------------------------------

    async def create_run(self, run: Run, thread: Thread | None, *, claim: bool) -> bool:
        run_row = (
            run["run_id"],
            run["thread_id"],
            run["assistant_id"],
            run["status"],
            _dumps(run["metadata"]),
            _dumps(run["kwargs"]),
            run["multitask_strategy"],
            run["created_at"],
            run["updated_at"],
        )
        due = _due(run)
        thread_row = None
        if thread is not None:
            thread_row = (
                thread["thread_id"],
                thread["status"],
                _dumps(thread["metadata"]),
                _dumps(thread["config"]),
                int(bool(thread.get("temporary"))),
                thread["created_at"],
                thread["updated_at"],
                thread["state_updated_at"],
            )

        def op(conn: sqlite3.Connection) -> bool:
            if thread_row is not None:
                conn.execute(
                    "INSERT INTO threads (thread_id, status, metadata, config, temporary,"
                    " created_at, updated_at, state_updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    thread_row,
                )
            claimed = claim and due <= time.time()
            if claimed and thread_row is None:
                claimed = not conn.execute(
                    "SELECT 1 FROM runs WHERE thread_id = ? AND status IN ('pending', 'running')",
                    (run_row[1],),
                ).fetchone()
            row = list(run_row)
            if claimed:
                row[3] = "running"
            conn.execute(
                f"INSERT INTO runs ({_RUN_COLUMNS}, due, attempt) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, due, 1 if claimed else 0),
            )
            conn.execute(
                "UPDATE threads SET status = 'busy', updated_at = ? WHERE thread_id = ?",
                (run_row[8], run_row[1]),
            )
            return claimed

        claimed = await self._submit(op)
        if claimed:
            run["status"] = "running"
        return claimed

    async def claim_runs(self, limit: int, now: float) -> tuple[list[Run], float | None]:
        def op(conn: sqlite3.Connection) -> tuple[list[Run], float | None]:
            candidates = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs r WHERE status = 'pending' AND due <= ?"
                " AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id"
                " AND o.status = 'running')"
                " AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id"
                " AND o.status = 'pending' AND (o.due < r.due OR (o.due = r.due AND"
                " o.run_id < r.run_id)))"
                " ORDER BY due, run_id LIMIT ?",
                (now, limit),
            ).fetchall()
            claimed = []
            stamp = _now_iso()
            for row in candidates:
                conn.execute(
                    "UPDATE runs SET status = 'running', attempt = attempt + 1, updated_at = ?"
                    " WHERE run_id = ?",
                    (stamp, row[0]),
                )
                run = _run_from_row(row)
                run["status"] = "running"
                claimed.append(run)
            nxt = conn.execute(
                "SELECT min(due) FROM runs WHERE status = 'pending' AND due > ?", (now,)
            ).fetchone()[0]
            return claimed, nxt

        return await self._submit(op)

    async def get_run(self, thread_id: str, run_id: str) -> Run | None:
        def op(conn: sqlite3.Connection) -> Run | None:
            row = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ? AND thread_id = ?",
                (run_id, thread_id),
            ).fetchone()
            return _run_from_row(row) if row else None

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
            sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE thread_id = ?"
            args: list[Any] = [thread_id]
            if status:
                sql += " AND status = ?"
                args.append(status)
            sql += " ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?"
            return [_run_from_row(r) for r in conn.execute(sql, [*args, limit, offset])]

        return await self._submit(op)

    async def finish_run(self, finish: RunFinish) -> None:
        f = finish
        stamp = _now_iso()

        def outbox(conn: sqlite3.Connection) -> None:
            if f.webhook is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO webhooks (run_id, thread_id, url, payload, status,"
                    " attempts, next_attempt, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
                    (f.run_id, f.thread_id, f.webhook[0], f.webhook[1], time.time(), stamp, stamp),
                )

        if f.delete_thread:

            def op(conn: sqlite3.Connection) -> None:
                conn.execute("DELETE FROM runs WHERE thread_id = ?", (f.thread_id,))
                conn.execute("DELETE FROM threads WHERE thread_id = ?", (f.thread_id,))
                outbox(conn)

        else:
            values = _dumps(f.thread_values) if f.thread_values is not None else None
            interrupts = _dumps(f.thread_interrupts)
            error = _dumps(f.thread_error) if f.thread_error is not None else None

            def op(conn: sqlite3.Connection) -> None:
                conn.execute(
                    "UPDATE runs SET status = ?, result = ?, updated_at = ? WHERE run_id = ?",
                    (f.status, f.result, stamp, f.run_id),
                )
                busy = conn.execute(
                    "SELECT 1 FROM runs WHERE thread_id = ? AND status IN ('pending', 'running')",
                    (f.thread_id,),
                ).fetchone()
                conn.execute(
                    'UPDATE threads SET status = ?, "values" = ?, interrupts = ?, error = ?,'
                    " updated_at = ?, state_updated_at = ? WHERE thread_id = ?",
                    (
                        "busy" if busy else f.thread_status,
                        values,
                        interrupts,
                        error,
                        stamp,
                        stamp,
                        f.thread_id,
                    ),
                )
                outbox(conn)

        await self._submit(op)

    async def requeue_running_runs(self) -> int:
        def op(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE runs SET status = 'pending' WHERE status = 'running'"
            ).rowcount

        return await self._submit(op)

    # -- webhooks ----------------------------------------------------------------------------

    async def pending_webhooks(self) -> list[PendingWebhook]:
        def op(conn: sqlite3.Connection) -> list[PendingWebhook]:
            rows = conn.execute(
                "SELECT run_id, thread_id, url, payload, attempts, next_attempt FROM webhooks"
                " WHERE status = 'pending' ORDER BY next_attempt"
            ).fetchall()
            return [PendingWebhook(*row) for row in rows]

        return await self._submit(op)

    async def record_webhook_attempt(
        self, attempt: WebhookAttempt, outcome: str, next_attempt: float | None
    ) -> None:
        a = attempt

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO webhook_attempts (run_id, attempt, url, at, status_code,"
                " error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (a.run_id, a.attempt, a.url, a.at, a.status_code, a.error, a.duration_ms),
            )
            conn.execute(
                "UPDATE webhooks SET status = ?, attempts = ?, next_attempt = ?, updated_at = ?"
                " WHERE run_id = ?",
                (outcome, a.attempt, next_attempt or 0, a.at, a.run_id),
            )

        await self._submit(op)

    async def get_webhook(self, run_id: str) -> dict[str, Any] | None:
        def op(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT run_id, thread_id, url, status, attempts, created_at, updated_at"
                " FROM webhooks WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                return None
            attempts = conn.execute(
                "SELECT attempt, url, at, status_code, error, duration_ms FROM webhook_attempts"
                " WHERE run_id = ? ORDER BY attempt",
                (run_id,),
            ).fetchall()
            keys = ("attempt", "url", "at", "status_code", "error", "duration_ms")
            return {
                "run_id": row[0],
                "thread_id": row[1],
                "url": row[2],
                "status": row[3],
                "created_at": row[5],
                "updated_at": row[6],
                "attempts": [dict(zip(keys, a, strict=True)) for a in attempts],
            }

        return await self._submit(op)

    # -- feedback ----------------------------------------------------------------------------

    async def server_secret(self) -> bytes:
        def op(conn: sqlite3.Connection) -> bytes:
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (os.urandom(32),)
            )
            return bytes(conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()[0])

        return await self._submit(op)

    async def add_feedback(self, feedback: dict[str, Any]) -> None:
        f = feedback

        def op(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO feedback (feedback_id, run_id, key, score, value, comment,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        f["feedback_id"],
                        f["run_id"],
                        f["key"],
                        f["score"],
                        _dumps(f["value"]),
                        f["comment"],
                        f["created_at"],
                    ),
                )
            except sqlite3.IntegrityError:
                raise errors.Conflict("Feedback for this key was already given") from None

        await self._submit(op)

    async def list_feedback(self, run_id: str) -> list[dict[str, Any]]:
        def op(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT feedback_id, run_id, key, score, value, comment, created_at FROM feedback"
                " WHERE run_id = ? ORDER BY created_at, key",
                (run_id,),
            ).fetchall()
            return [
                {
                    "feedback_id": r[0],
                    "run_id": r[1],
                    "key": r[2],
                    "score": r[3],
                    "value": orjson.loads(r[4]) if r[4] is not None else None,
                    "comment": r[5],
                    "created_at": r[6],
                }
                for r in rows
            ]

        return await self._submit(op)


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS graphport_migrations (version INTEGER PRIMARY KEY)")
    done = conn.execute("SELECT coalesce(max(version), 0) FROM graphport_migrations").fetchone()[0]
    for version, script in enumerate(MIGRATIONS, start=1):
        if version <= done:
            continue
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO graphport_migrations (version) VALUES (?)", (version,))
        log.info("applied SQLite migration %d", version)


def _now_iso() -> str:
    return iso()


def _due(run: Run) -> float:
    return datetime.fromisoformat(run["created_at"]).timestamp()
