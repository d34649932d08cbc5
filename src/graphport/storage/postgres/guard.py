"""langgraph's PostgreSQL checkpointer tables, guarded by graphport's thread rows.

A checkpoint, channel blob or pending write is only stored for a thread that has a row: a run
that is cancelled, taken over or whose thread is deleted or expires may still be writing, and a
write after the deletion would bring the thread's state back (langgraph#7206). The trigger takes
a KEY SHARE lock on the thread row, so it either waits for a deletion in flight and then finds
no row (the write is dropped), or holds the deletion back until the write has committed, and the
deletion, which removes the thread row and its checkpoints in one transaction
(`tables/threads.py`), then sees the write and deletes it too. KEY SHARE does not
conflict with the FOR NO KEY UPDATE of the runs' locking rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # connection.py's Db deletes checkpoints through this module
    from graphport.storage.postgres.connection import Conn, Tx

CHECKPOINT_TABLES = ("checkpoint_writes", "checkpoint_blobs", "checkpoints")

_FUNCTION = """
CREATE OR REPLACE FUNCTION graphport_checkpoint_needs_thread() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM threads WHERE thread_id = NEW.thread_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN NULL;  -- no thread row: the write is dropped
    END IF;
    RETURN NEW;
END
$$
"""


async def install_guard(conn: Conn) -> None:
    """Create the function and triggers (after langgraph's `setup()`, under the setup lock)."""
    async with conn.transaction():
        await conn.execute(_FUNCTION)
        for table in CHECKPOINT_TABLES:
            cur = await conn.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = 'graphport_needs_thread'"
                " AND tgrelid = %s::regclass",
                (table,),
            )
            if await cur.fetchone() is not None:  # never DROP: servers may be writing
                continue
            await conn.execute(
                f"CREATE TRIGGER graphport_needs_thread BEFORE INSERT ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION graphport_checkpoint_needs_thread()"
            )


async def delete_checkpoints(tx: Tx, thread_id: str) -> None:
    """Delete every checkpoint, blob and pending write of a thread (all namespaces)."""
    for table in CHECKPOINT_TABLES:
        await tx.execute(f"DELETE FROM {table} WHERE thread_id = %s", (thread_id,))
