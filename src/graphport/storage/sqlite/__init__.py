"""SqliteStorage: the embedded default, one file beside langgraph.json.

graphport's own tables are reached through one connection thread (`connection.py`: `_flow` runs
the operations of `storage/tables/` there, over `db.py`'s `SqliteDb`); `migrations.py` holds the
schema and `claims.py` the claim of pending runs.

Checkpoints go through the same thread, with langgraph-checkpoint-sqlite's SQL (`saver.py`:
one commit for graphport's writes and the checkpoints of every run in flight); the store is
langgraph's own on a connection of its own to the same file (WAL mode, busy timeout). A
':memory:' database has an in-memory checkpointer and its store in an in-memory SQLite database
(`storage/store.py`: index, TTLs).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from graphport.storage.base import Peers, Storage
from graphport.storage.sqlite.claims import ClaimsMixin
from graphport.storage.sqlite.connection import Connection
from graphport.storage.sqlite.dialect import register_functions
from graphport.storage.sqlite.migrations import migrate
from graphport.storage.sqlite.saver import GroupCommitSaver, MemorySaver, install_guard
from graphport.storage.store import StoreOptions, connect_sqlite
from graphport.storage.tables import SqlTables

__all__ = ["SqliteStorage"]


# A Unix socket's path holds at most 107 bytes (sun_path); ours are "<dir>/<pid>-<8 hex>.sock".
_SOCKET_PATH_MAX = 107 - len("/4194304-0123abcd.sock")


def bus_directory(path: str) -> str:
    """Where the processes sharing the file `path` bind their sockets: `<file>.bus` beside it,
    or, when that path is too long for a socket, a directory in the temp directory named by a
    hash of the file's absolute path (the same for every process opening that file)."""
    beside = f"{path}.bus"
    if len(os.fsencode(beside)) <= _SOCKET_PATH_MAX:
        return beside
    digest = hashlib.sha256(os.fsencode(os.path.abspath(path))).hexdigest()[:20]
    return os.path.join(tempfile.gettempdir(), f"graphport-bus-{digest}")


class SqliteStorage(
    SqlTables,
    ClaimsMixin,
    Storage,
):
    def __init__(
        self, path: str, *, store: StoreOptions | None = None, shared: bool = False
    ) -> None:
        self.path = path
        # several processes on this file (`--workers N`): heartbeats, a checked assistant cache,
        # and a bus of Unix sockets in `<file>.bus/` (for a deep path, in the temp directory)
        self.shared = shared and path != ":memory:"
        self.durable = path != ":memory:"
        self.worker_id = uuid.uuid4().hex
        self.bus_dir = bus_directory(path)
        self._store_options = store or StoreOptions()
        self.location = "in memory (lost when the server stops)" if path == ":memory:" else path
        self._conn: Connection | None = None
        self._assistant_cache = {}
        self._store_conn: Any = None

    def peers(self) -> Peers:
        return Peers(socket_dir=self.bus_dir)

    async def ping(self) -> None:
        await self._submit(lambda conn: conn.execute("SELECT 1").fetchone())

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        async with _schema_lock(self.path):
            self._conn = Connection(self.path, shared=self.shared)
            self._conn.start()
            await asyncio.to_thread(self._conn.ready.wait)
            if self._conn.error is not None:
                raise self._conn.error
            await self._submit(register_functions)
            await self._submit(migrate)
            if self.path == ":memory:":
                self.checkpointer = MemorySaver()
            else:
                await asyncio.to_thread(GroupCommitSaver.create_tables, self.path)
                saver = GroupCommitSaver(self._submit, self._conn)
                await self._submit(saver.bind)
                await self._submit(install_guard)
                self.checkpointer = saver
            await self._open_store()

    async def _open_store(self) -> None:
        from langgraph.store.sqlite.aio import AsyncSqliteStore

        options = self._store_options
        self._store_conn = conn = await connect_sqlite(self.path)
        self.store = AsyncSqliteStore(conn, index=options.index, ttl=options.ttl)  # type: ignore[arg-type]
        await self.store.setup()
        await self.store.start_ttl_sweeper()
        options.log_opened(conn.vectors)

    async def close(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            await store.stop_ttl_sweeper(timeout=10)
        if self._store_conn is not None:
            await self._store_conn.close()
        if self._conn is not None:
            self._conn.queue.put(None)
            await asyncio.to_thread(self._conn.join, 10)
            self._conn = None

    async def delete_run_checkpoints(self, thread_id: str, run_id: str) -> None:
        if self.path == ":memory:":  # InMemorySaver: walk its dicts
            saver: Any = self.checkpointer
            for namespace in saver.storage.get(thread_id, {}).values():
                for checkpoint_id, (_, metadata, _) in list(namespace.items()):
                    if saver.serde.loads_typed(metadata).get("run_id") == run_id:
                        del namespace[checkpoint_id]
            return

        def op(conn: Any) -> None:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ?"
                    " AND json_extract(CAST(metadata AS TEXT), '$.run_id') = ?",
                    (thread_id, run_id),
                )
            ]
            for checkpoint_id in ids:
                conn.execute(
                    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_id = ?",
                    (thread_id, checkpoint_id),
                )
                conn.execute(
                    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id = ?",
                    (thread_id, checkpoint_id),
                )

        await self._submit(op)


@contextlib.asynccontextmanager
async def _schema_lock(path: str) -> AsyncIterator[None]:
    """Processes opening one file (`--workers N`) set its schema one at a time: langgraph's
    store and saver migrate without a lock, and two at once fail ("duplicate column name"),
    which stopped one of the processes at start."""
    if path == ":memory:":
        yield
        return
    fd = os.open(f"{path}.setup-lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
