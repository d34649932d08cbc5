"""PostgreSQL's `Db` (storage/db.py): statements on one cursor inside `conn.transaction()`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncCursor, AsyncPipeline

from graphport.storage.db import Row
from graphport.storage.postgres.dialect import POSTGRES
from graphport.storage.postgres.guard import CHECKPOINT_TABLES
from graphport.storage.postgres.rows import iso_of, jsonb, text_in, text_out, ts


@functools.lru_cache(maxsize=4096)
def spelled(sql: str) -> str:
    """The flow's `?` placeholders in psycopg's spelling (graphport's SQL has no literal `%`
    and uses no `?` JSON operator)."""
    return sql.replace("?", "%s")


class PostgresDb:
    where = POSTGRES
    for_update = " FOR UPDATE"
    for_no_key_update = " FOR NO KEY UPDATE"
    chains_inserts = True

    def __init__(self, cursor: AsyncCursor[Row], pipeline: AsyncPipeline | None = None) -> None:
        self.cursor = cursor
        self.pipeline = pipeline  # a transaction's statements are pipelined (connection.py)

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        await self.cursor.execute(spelled(sql), args)

    async def count(self, sql: str, args: Sequence[Any] = ()) -> int:
        cur = await self.cursor.execute(spelled(sql), args)
        if self.pipeline is not None:
            await self.pipeline.sync()  # the count is known once its answer is read
        return cur.rowcount

    async def one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        cur = await self.cursor.execute(spelled(sql), args)
        return await cur.fetchone()

    async def all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        cur = await self.cursor.execute(spelled(sql), args)
        return await cur.fetchall()

    @staticmethod
    def json(value: Any) -> Any:
        return None if value is None else jsonb(value)

    @staticmethod
    def from_json(raw: Any) -> Any:
        return raw  # the cursor's loader has parsed it (connection.py)

    ts = staticmethod(ts)
    from_ts = staticmethod(iso_of)
    text = staticmethod(text_in)
    from_text = staticmethod(text_out)

    async def delete_checkpoints(self, thread_id: str) -> None:
        for table in CHECKPOINT_TABLES:  # the guard (guard.py) keeps late writes out
            await self.cursor.execute(f"DELETE FROM {table} WHERE thread_id = %s", (thread_id,))

    for_key_share = " FOR KEY SHARE"

    @staticmethod
    def clock() -> tuple[str, list[Any]]:
        return "now()", []  # the database's clock, the same for every machine

    @staticmethod
    def heartbeat_fresh(stale_after: float) -> tuple[str, list[Any]]:
        return "heartbeat_at > now() - make_interval(secs => ?)", [stale_after]
