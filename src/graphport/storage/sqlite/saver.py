"""langgraph's SQLite checkpointer as graphport runs it: guarded by the thread rows, and prunable.

The guard: a checkpoint or pending write is only stored for a thread that has a row. A run that
is cancelled, taken over or whose thread is deleted or expires may still be writing; SQLite has
one writer at a time, so the triggers below see the delete or not, and a late write after it is
dropped instead of bringing the thread's state back (langgraph#7206). The thread row and its
checkpoints are deleted in one transaction (`tables/threads.py`).

Pruning: `aprune(..., strategy="keep_latest")`, which langgraph-checkpoint-sqlite (and the
InMemorySaver of a ':memory:' database) lacks, keeps each namespace's latest checkpoint and its
pending writes and deletes the rest. A ':memory:' database has no guard: its data goes with the
process anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

T = TypeVar("T")

GUARD_SQL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS graphport_{table}_need_thread BEFORE INSERT ON {table}
    WHEN NOT EXISTS (SELECT 1 FROM threads WHERE thread_id = NEW.thread_id)
    BEGIN SELECT RAISE(IGNORE); END
    """
    for table in ("checkpoints", "writes")
]

# The checkpoints of a thread, and their writes, that are not the latest of their namespace
# (checkpoint ids are time-ordered UUIDs, so the latest is the greatest).
_KEEP_LATEST_SQL = [
    """
    DELETE FROM writes WHERE thread_id = ?1 AND checkpoint_id <> (
        SELECT max(c.checkpoint_id) FROM checkpoints c
        WHERE c.thread_id = ?1 AND c.checkpoint_ns = writes.checkpoint_ns)
    """,
    """
    DELETE FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id <> (
        SELECT max(c.checkpoint_id) FROM checkpoints c
        WHERE c.thread_id = ?1 AND c.checkpoint_ns = checkpoints.checkpoint_ns)
    """,
    # the kept checkpoint has no parent any more
    "UPDATE checkpoints SET parent_checkpoint_id = NULL WHERE thread_id = ?1",
]


def install_guard(conn: sqlite3.Connection) -> None:
    """Create the triggers (after langgraph's `setup()` has created its tables)."""
    for sql in GUARD_SQL:
        conn.execute(sql)


def delete_checkpoints(conn: sqlite3.Connection, thread_id: str) -> None:
    """Delete every checkpoint and pending write of a thread (all namespaces)."""
    conn.execute("DELETE FROM writes WHERE thread_id = ?", (thread_id,))
    conn.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread_id,))


class GroupCommitSaver(SqliteSaver):
    """langgraph's SqliteSaver, run on graphport's connection thread (connection.py).

    Each checkpointer call is one operation of that thread's batches, so the checkpoints and
    pending writes of every run in flight share one transaction and one commit with graphport's
    own writes (group commit), instead of a thread hop and a commit each on a connection of
    their own behind one lock (langgraph's AsyncSqliteSaver). The SQL and the tables are
    langgraph-checkpoint-sqlite's: a file written by either reads back in the other.

    The async methods submit the sync ones; a sync call from another thread (graph code in an
    executor) waits for its operation on the event loop, as AsyncSqliteSaver does; from the
    event loop's thread it is refused, as there.
    """

    def __init__(
        self,
        submit: Callable[[Callable[[sqlite3.Connection], Any]], Any],
        thread: threading.Thread,
    ) -> None:
        super().__init__(cast(sqlite3.Connection, None))
        self._submit = submit
        self._thread = thread
        self.loop = asyncio.get_running_loop()
        self.is_setup = True  # `setup` ran on a connection of its own (see `create_tables`)

    @classmethod
    def create_tables(cls, path: str) -> None:
        """langgraph's tables (and their migrations), outside any batch: `executescript`
        commits whatever transaction is open."""
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            SqliteSaver(conn).setup()
        finally:
            conn.close()

    def bind(self, conn: sqlite3.Connection) -> None:
        """Use the connection thread's connection (an operation of that thread)."""
        self.conn = conn

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        # the batch's transaction commits; one thread runs every operation: no lock
        cur = self.conn.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _on_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def _wait(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Run `op` on the connection thread from a thread that is neither it nor the loop's."""
        try:
            if asyncio.get_running_loop() is self.loop:
                raise asyncio.InvalidStateError(
                    "Synchronous checkpointer calls are only allowed from a different thread; "
                    "from the event loop use the async interface (e.g. `await graph.ainvoke`)."
                )
        except RuntimeError:
            pass

        async def submitted() -> T:
            result: T = await self._submit(op)
            return result

        return asyncio.run_coroutine_threadsafe(submitted(), self.loop).result()

    # -- the sync interface, from graph code in other threads --------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        if self._on_thread():
            return SqliteSaver.get_tuple(self, config)
        return self._wait(lambda _: SqliteSaver.get_tuple(self, config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        def found(_: Any = None) -> list[CheckpointTuple]:
            return [*SqliteSaver.list(self, config, filter=filter, before=before, limit=limit)]

        return iter(found() if self._on_thread() else self._wait(found))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        if self._on_thread():
            return SqliteSaver.put(self, config, checkpoint, metadata, new_versions)
        return self._wait(
            lambda _: SqliteSaver.put(self, config, checkpoint, metadata, new_versions)
        )

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if self._on_thread():
            SqliteSaver.put_writes(self, config, writes, task_id, task_path)
        else:
            self._wait(lambda _: SqliteSaver.put_writes(self, config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        if self._on_thread():
            SqliteSaver.delete_thread(self, thread_id)
        else:
            self._wait(lambda _: SqliteSaver.delete_thread(self, thread_id))

    # -- the async interface -------------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        result: CheckpointTuple | None = await self._submit(lambda _: self.get_tuple(config))
        return result

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        found: list[CheckpointTuple] = await self._submit(
            lambda _: [*self.list(config, filter=filter, before=before, limit=limit)]
        )
        for item in found:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        stored: RunnableConfig = await self._submit(
            lambda _: self.put(config, checkpoint, metadata, new_versions)
        )
        return stored

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._submit(lambda _: self.put_writes(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        await self._submit(lambda _: self.delete_thread(thread_id))

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        history: Mapping[str, DeltaChannelHistory] = await self._submit(
            lambda _: self.get_delta_channel_history(config=config, channels=channels)
        )
        return history

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"Unknown prune strategy: {strategy!r}")

        def op(conn: sqlite3.Connection) -> None:
            for thread_id in thread_ids:
                if strategy == "delete":
                    delete_checkpoints(conn, str(thread_id))
                    continue
                for sql in _KEEP_LATEST_SQL:
                    conn.execute(sql, (str(thread_id),))

        await self._submit(op)


class MemorySaver(InMemorySaver):
    """A ':memory:' database's checkpointer (the channel values of pruned checkpoints stay)."""

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"Unknown prune strategy: {strategy!r}")
        for thread_id in thread_ids:
            if strategy == "delete":
                self.delete_thread(thread_id)
                continue
            kept: set[tuple[str, str]] = set()
            for ns, checkpoints in self.storage.get(thread_id, {}).items():
                if not checkpoints:
                    continue
                latest = max(checkpoints)
                for checkpoint_id in [c for c in checkpoints if c != latest]:
                    del checkpoints[checkpoint_id]
                checkpoint, metadata, _parent = checkpoints[latest]
                checkpoints[latest] = (checkpoint, metadata, None)
                kept.add((ns, latest))
            for key in [k for k in self.writes if k[0] == thread_id]:
                if (key[1], key[2]) not in kept:
                    del self.writes[key]
