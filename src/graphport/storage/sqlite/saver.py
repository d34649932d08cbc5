"""langgraph's SQLite checkpointer as graphport runs it: guarded by the thread rows, and prunable.

The guard: a checkpoint or pending write is only stored for a thread that has a row. A run that
is cancelled, taken over or whose thread is deleted or expires may still be writing; SQLite has
one writer at a time, so the triggers below see the delete or not, and a late write after it is
dropped instead of bringing the thread's state back (langgraph#7206). The thread row and its
checkpoints are deleted in one transaction (`ThreadsMixin.delete_thread`).

Pruning: `aprune(..., strategy="keep_latest")`, which langgraph-checkpoint-sqlite (and the
InMemorySaver of a ':memory:' database) lacks, keeps each namespace's latest checkpoint and its
pending writes and deletes the rest. A ':memory:' database has no guard: its data goes with the
process anyway.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

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


class SqliteSaver(AsyncSqliteSaver):
    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"Unknown prune strategy: {strategy!r}")
        async with self.lock:
            for thread_id in thread_ids:
                if strategy == "delete":
                    await self.conn.execute("DELETE FROM writes WHERE thread_id = ?", (thread_id,))
                    await self.conn.execute(
                        "DELETE FROM checkpoints WHERE thread_id = ?", (thread_id,)
                    )
                    continue
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for sql in _KEEP_LATEST_SQL:
                        await self.conn.execute(sql, (str(thread_id),))
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise
                await self.conn.execute("COMMIT")


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
