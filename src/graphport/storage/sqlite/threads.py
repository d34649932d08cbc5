"""Threads in SQLite."""

from __future__ import annotations

import sqlite3

from graphport.models import Thread
from graphport.storage.sqlite.connection import SqliteBase
from graphport.storage.sqlite.rows import (
    THREAD_COLUMNS,
    thread_from_row,
)


class ThreadsMixin(SqliteBase):
    # -- threads -----------------------------------------------------------------------------

    async def get_thread(self, thread_id: str) -> Thread | None:
        def op(conn: sqlite3.Connection) -> Thread | None:
            row = conn.execute(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            return thread_from_row(row) if row else None

        return await self._submit(op)

    async def delete_thread(self, thread_id: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM runs WHERE thread_id = ?", (thread_id,))
            return (
                conn.execute("DELETE FROM threads WHERE thread_id = ?", (thread_id,)).rowcount > 0
            )

        return await self._submit(op)
