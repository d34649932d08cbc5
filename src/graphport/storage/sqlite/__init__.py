"""SqliteStorage: the embedded default, one file beside langgraph.json.

graphport's own tables are reached through one connection thread (`connection.py`); each resource
has its mixin (`assistants.py`, `threads.py`, `runs.py`, ...), and `migrations.py` holds the schema.

Checkpoints and the store are langgraph-checkpoint-sqlite's own savers on their own connections
to the same file (WAL mode, busy timeout), or in-memory savers for a ':memory:' database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from graphport.storage.base import Storage
from graphport.storage.sqlite.assistants import AssistantsMixin
from graphport.storage.sqlite.connection import Connection
from graphport.storage.sqlite.feedback import FeedbackMixin
from graphport.storage.sqlite.migrations import migrate
from graphport.storage.sqlite.runs import RunsMixin
from graphport.storage.sqlite.threads import ThreadsMixin
from graphport.storage.sqlite.webhooks import WebhooksMixin

__all__ = ["SqliteStorage"]


class SqliteStorage(
    AssistantsMixin, ThreadsMixin, RunsMixin, WebhooksMixin, FeedbackMixin, Storage
):
    def __init__(self, path: str) -> None:
        self.path = path
        self.location = "in memory (lost when the server stops)" if path == ":memory:" else path
        self._conn: Connection | None = None
        self._saver_conn: Any = None
        self._store_conn: Any = None

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = Connection(self.path)
        self._conn.start()
        await asyncio.to_thread(self._conn.ready.wait)
        if self._conn.error is not None:
            raise self._conn.error
        await self._submit(migrate)
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
