"""PostgresStorage: graphport's tables, langgraph's checkpointer and its store on one database.

One `psycopg_pool.AsyncConnectionPool` serves all three. Its connections are opened as
langgraph's savers need them: autocommit (their setup runs `CREATE INDEX CONCURRENTLY`, which
cannot run in a transaction, and their writes rely on autocommit to commit) and `dict_row` (they
read columns by name); `prepare_threshold=0` (every statement prepared on first use) is what
their `from_conn_string` uses too. graphport's own operations each run in one
`conn.transaction()` (`connection.py`: `_flow` runs the operations of `storage/tables/` over
`db.py`'s `PostgresDb`; the locking rule and error translation); `migrations.py` holds the
schema and `claims.py` the claim of pending runs.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from graphport import errors
from graphport.storage.base import Peers, Storage
from graphport.storage.postgres.claims import ClaimsMixin
from graphport.storage.postgres.connection import PostgresBase, wrap_errors
from graphport.storage.postgres.guard import install_guard
from graphport.storage.postgres.migrations import MIGRATION_LOCK, migrate
from graphport.storage.store import (
    StoreOptions,
    check_pgvector,
    fractional_ttls,
    replace_vectors_on_put,
)
from graphport.storage.tables import SqlTables

__all__ = ["PostgresStorage"]

log = logging.getLogger(__name__)

CONNECTION_KWARGS: dict[str, Any] = {
    "autocommit": True,
    "row_factory": dict_row,
    "prepare_threshold": 0,
}
# Session-level advisory lock held while the schemas are set up (graphport's migrations and
# langgraph's own `setup()`s, which are not safe to run twice at once). It is taken by polling
# `pg_try_advisory_lock`, never by waiting inside a statement: a waiting statement holds a
# snapshot, and langgraph's `CREATE INDEX CONCURRENTLY` waits for every older snapshot, which
# would deadlock with the process waiting for the lock.
SETUP_LOCK = MIGRATION_LOCK - 1
SETUP_LOCK_TIMEOUT = 300.0


def _redacted(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresStorage(
    SqlTables,
    ClaimsMixin,
    PostgresBase,
    Storage,
):
    def __init__(
        self, url: str, *, min_size: int = 2, max_size: int = 20, store: StoreOptions | None = None
    ) -> None:
        self.url = url
        self._store_options = store or StoreOptions()
        self.location = _redacted(url)
        self.shared = True
        self.worker_id = uuid.uuid4().hex
        self.bus_channel = ""
        self.min_size, self.max_size = min_size, max_size
        self._pool = None
        self._assistant_cache = {}  # for runs, checked as they are inserted (other writers)

    def peers(self) -> Peers:
        return Peers(database_url=self.url, channel=self.bus_channel)

    async def open(self) -> None:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        try:
            lock_conn = await psycopg.AsyncConnection.connect(self.url, **CONNECTION_KWARGS)
        except psycopg.Error as exc:
            raise errors.GraphportError(
                f"Cannot connect to PostgreSQL at {self.location}: {exc}"
            ) from exc
        try:
            with wrap_errors():
                if self._store_options.index is not None:  # refuse before creating anything
                    await check_pgvector(lock_conn, self.location)
                await _take_setup_lock(lock_conn)
                pool: Any = AsyncConnectionPool(
                    self.url,
                    min_size=self.min_size,
                    max_size=self.max_size,
                    kwargs=CONNECTION_KWARGS,
                    open=False,
                    name="graphport",
                )
                await pool.open(wait=True, timeout=30)
                self._pool = pool
                async with pool.connection() as conn:
                    await migrate(conn)
                    # the bus channel of this database and schema (servers of other schemas
                    # in the same database must not hear each other)
                    cur = await conn.execute(
                        "SELECT md5(current_database() || '.' || current_schema()) AS h"
                    )
                    row = await cur.fetchone()
                    assert row is not None
                    self.bus_channel = f"graphport_{row['h'][:16]}"
                self.checkpointer = AsyncPostgresSaver(pool)
                await self.checkpointer.setup()
                async with pool.connection() as conn:
                    await install_guard(conn)
                await self._open_store(pool)
        except BaseException:
            await self.close()
            raise
        finally:
            await lock_conn.close()  # releases the setup lock

    async def _open_store(self, pool: Any) -> None:
        from langgraph.store.postgres.aio import AsyncPostgresStore

        options = self._store_options
        self.store = AsyncPostgresStore(pool, index=options.index, ttl=options.ttl)  # type: ignore[arg-type]
        try:
            await self.store.setup()
            async with pool.connection() as conn:
                await fractional_ttls(conn)
                if options.index is not None:
                    await replace_vectors_on_put(conn)
        except psycopg.Error as exc:
            raise errors.GraphportError(f"Setting up the store failed: {exc}") from exc
        await self.store.start_ttl_sweeper()
        options.log_opened("pgvector")

    async def close(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            await store.stop_ttl_sweeper(timeout=10)
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def delete_run_checkpoints(self, thread_id: str, run_id: str) -> None:
        async with self._transaction() as tx:
            await tx.execute(
                "SELECT c.checkpoint_ns, c.checkpoint_id, v.key AS channel, v.value AS version"
                " FROM checkpoints c LEFT JOIN LATERAL"
                " jsonb_each_text(c.checkpoint -> 'channel_versions') v ON true"
                " WHERE c.thread_id = %s AND c.metadata ->> 'run_id' = %s FOR UPDATE OF c",
                (thread_id, run_id),
            )
            rows = await tx.fetchall()
            if not rows:
                return
            doomed = {(r["checkpoint_ns"], r["checkpoint_id"]) for r in rows}
            keys = [list(x) for x in zip(*doomed, strict=True)]
            for table in ("checkpoint_writes", "checkpoints"):
                await tx.execute(
                    f"DELETE FROM {table} WHERE thread_id = %s AND (checkpoint_ns, checkpoint_id)"
                    " IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                    (thread_id, *keys),
                )
            # Channel values are stored once per version and shared by the checkpoints that
            # hold that version: drop those that no remaining checkpoint of the thread holds.
            blobs = {(r["checkpoint_ns"], r["channel"], r["version"]) for r in rows if r["channel"]}
            if blobs:
                await tx.execute(
                    "DELETE FROM checkpoint_blobs b USING unnest(%s::text[], %s::text[],"
                    " %s::text[]) AS d(ns, channel, version)"
                    " WHERE b.thread_id = %s AND b.checkpoint_ns = d.ns"
                    " AND b.channel = d.channel AND b.version = d.version"
                    " AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id"
                    " AND c.checkpoint_ns = b.checkpoint_ns"
                    " AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)",
                    (*[list(x) for x in zip(*blobs, strict=True)], thread_id),
                )


async def _take_setup_lock(conn: psycopg.AsyncConnection[Any]) -> None:
    deadline = time.monotonic() + SETUP_LOCK_TIMEOUT
    waited = False
    while True:
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (SETUP_LOCK,))
        row = await cur.fetchone()
        if row and row["ok"]:
            return
        if time.monotonic() > deadline:
            raise errors.GraphportError("Timed out waiting for another server's schema setup")
        if not waited:
            log.info("waiting for another server to finish setting up the database")
            waited = True
        await asyncio.sleep(0.1)
