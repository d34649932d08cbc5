"""The base of the PostgreSQL mixins: one connection pool, transactions, error translation.

Every operation is one transaction on a connection of the pool (opened in autocommit mode, as
langgraph's savers need, so an explicit BEGIN ... COMMIT is what makes a flow atomic, sent in
one pipeline: `_flow`), run through one cursor whose JSON loader undoes `rows.dumps`' escaping.
Driver exceptions never leave this package: `wrap_errors()` turns them into `errors.*`, keeping
the cause.

Locking rule, shared by every mixin: a transaction that reads or changes the runs of a thread
in a way that matters for "at most one running run per thread" first locks the thread's row
(`FOR NO KEY UPDATE`, which does not block the foreign-key checks of run inserts), and only then
reads the runs in a *new* statement, so it sees everything the previous lock holder committed.
Locks are always taken thread row first, run rows second, so they cannot deadlock.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg import errors as pg_errors
from psycopg.adapt import Buffer, Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, tuple_row
from psycopg_pool import AsyncConnectionPool

from graphport import errors
from graphport.storage.postgres.db import PostgresDb
from graphport.storage.postgres.rows import loads
from graphport.storage.tables.flows import Flow, Flows

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]
Conn = AsyncConnection[DictRow]
Tx = AsyncCursor[DictRow]  # the cursor of one transaction
T = TypeVar("T")
PING_TIMEOUT = 5.0  # seconds `/ok?check_db=1` waits for a pooled connection


class _JsonLoader(Loader):
    """JSON(B) columns of graphport's tables, as `rows.loads` reads them."""

    def load(self, data: Buffer) -> Any:
        return loads(bytes(data))


@contextlib.contextmanager
def wrap_errors() -> Iterator[None]:
    """Translate psycopg's exceptions into graphport's (most specific first, cause kept)."""
    try:
        yield
    except pg_errors.UniqueViolation as exc:
        raise errors.Conflict() from exc
    except pg_errors.ForeignKeyViolation as exc:
        raise errors.NotFound() from exc
    except psycopg.Error as exc:
        raise errors.GraphportError(f"Database error: {type(exc).__name__}") from exc


class PostgresBase(Flows):
    """What every PostgreSQL mixin builds on."""

    codec = PostgresDb

    _pool: Pool | None
    # Set by the storage class (see `Storage`).
    worker_id: str
    stale_after: float
    default_ttl: dict[str, Any] | None

    @contextlib.asynccontextmanager
    async def _transaction(self, *, atomic: bool = True, tuples: bool = False) -> AsyncIterator[Tx]:
        """A cursor on a pooled connection inside one transaction (committed on exit).
        `atomic=False` saves BEGIN and COMMIT for a single statement (autocommit); `tuples`
        gives rows as tuples (a `PostgresDb`'s) instead of dicts."""
        assert self._pool is not None, "storage is not open"
        with wrap_errors():
            async with self._pool.connection() as conn:
                cur: Any = conn.cursor(row_factory=tuple_row) if tuples else conn.cursor()
                cur.adapters.register_loader("jsonb", _JsonLoader)
                if not atomic:
                    yield cur
                    return
                async with conn.transaction():
                    yield cur

    async def ping(self) -> None:
        # a health check answers within seconds: not after the pool's 30 s wait for a
        # connection while the database is unreachable
        assert self._pool is not None, "storage is not open"
        with wrap_errors():
            async with self._pool.connection(timeout=PING_TIMEOUT) as conn:
                await conn.execute("SELECT 1")

    async def _flow(self, flow: Flow[T], *args: Any) -> T:
        # One pipeline (psycopg's pipeline mode) from BEGIN to COMMIT: every statement is sent
        # at once, and the flow waits for answers only where it reads them (`one`, `all`,
        # `count`) and after the COMMIT, so a flow that reads nothing is one round trip. The
        # statements still run in order, each with a snapshot taken when it starts: the locking
        # rule above holds. BEGIN and COMMIT are sent as statements because psycopg's
        # `transaction()` waits after each of them.
        async with self._transaction(atomic=False, tuples=True) as cur:
            try:
                async with cur.connection.pipeline() as pipeline:
                    await cur.execute("BEGIN")
                    result = await flow(PostgresDb(cur, pipeline), *args)  # type: ignore[arg-type]
                    await cur.execute("COMMIT")
            except BaseException:
                await _roll_back(cur.connection)
                raise
            return result

    async def _read(self, flow: Flow[T], *args: Any) -> T:
        async with self._transaction(atomic=False, tuples=True) as tx:
            return await flow(PostgresDb(tx), *args)  # type: ignore[arg-type]


async def _roll_back(conn: Conn) -> None:
    """End the transaction a failed flow left open (the pool would too, with a warning); a
    connection still busy with a statement (a cancelled flow) is the pool's to discard."""
    if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        with contextlib.suppress(psycopg.Error):
            await conn.rollback()
