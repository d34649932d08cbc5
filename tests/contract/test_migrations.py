"""Migrations: applied at start, and rerunning them (a restart, `graphport migrate`) is a no-op."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from graphport.models import iso, uuid7
from graphport.storage.base import Storage
from graphport.storage.sqlite import SqliteStorage
from graphport.storage.sqlite.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from tests.contract.conftest import fresh_schema, open_postgres

Snapshot = Callable[[], Awaitable[tuple[Any, list[int]]]]


async def _sqlite(tmp_path: Path) -> tuple[Callable[[], Awaitable[Storage]], Snapshot, int]:
    path = str(tmp_path / "migrations.sqlite")

    async def make() -> Storage:
        backend = SqliteStorage(path)
        await backend.open()
        return backend

    async def snapshot() -> tuple[Any, list[int]]:
        with sqlite3.connect(path) as conn:
            schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
            versions = conn.execute("SELECT version FROM graphport_migrations ORDER BY version")
            return schema.fetchall(), [v[0] for v in versions]

    return make, snapshot, len(SQLITE_MIGRATIONS)


async def _postgres(database_url: str) -> tuple[Callable[[], Awaitable[Storage]], Snapshot, int]:
    import psycopg

    from graphport.storage.postgres import PostgresStorage
    from graphport.storage.postgres.migrations import MIGRATIONS

    first: Any = await open_postgres(database_url)
    url = first.url
    await first.close()

    async def make() -> Storage:
        backend = PostgresStorage(url)
        await backend.open()
        return backend

    async def snapshot() -> tuple[Any, list[int]]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            columns = await conn.execute(
                "SELECT table_name, column_name, data_type, is_nullable, column_default"
                " FROM information_schema.columns WHERE table_schema = current_schema()"
                " ORDER BY table_name, column_name"
            )
            schema = await columns.fetchall()
            indexes = await conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() ORDER BY indexname"
            )
            schema += await indexes.fetchall()
            versions = await conn.execute(
                "SELECT version FROM graphport_migrations ORDER BY version"
            )
            return schema, [v[0] for v in await versions.fetchall()]

    return make, snapshot, len(MIGRATIONS)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Callable[[], Awaitable[Storage]], Snapshot, int]]:
    if request.param == "sqlite":
        yield await _sqlite(tmp_path)
    else:
        yield await _postgres(request.getfixturevalue("postgres_database"))


async def test_every_migration_is_applied_once(database: Any) -> None:
    """Opening a new database applies every migration, each recorded once by its version."""
    make, snapshot, count = database
    backend = await make()
    await backend.close()
    _, versions = await snapshot()
    assert versions == list(range(1, count + 1))


async def test_rerunning_migrations_is_a_no_op(database: Any) -> None:
    """Opening a migrated database again changes neither its schema nor its data."""
    make, snapshot, _ = database
    backend = await make()
    now = iso()
    thread_id = uuid7()
    thread: Any = {
        "thread_id": thread_id, "status": "idle", "metadata": {"k": "v"}, "config": {},
        "created_at": now, "updated_at": now, "state_updated_at": now, "values": None,
    }  # fmt: skip
    await backend.create_thread(thread, if_exists="raise", ttl=None)
    await backend.close()
    before = await snapshot()
    for _ in range(2):
        again = await make()
        try:
            got = await again.get_thread(thread_id)
            assert got is not None and got["metadata"] == {"k": "v"}
        finally:
            await again.close()
    assert await snapshot() == before


async def test_postgres_migrate_applies_nothing_the_second_time(postgres_database: str) -> None:
    """PostgreSQL's `migrate` reports the versions it applied: none on a migrated database."""
    import psycopg
    from psycopg.rows import dict_row

    from graphport.storage.postgres.migrations import migrate

    backend: Any = await open_postgres(postgres_database)
    await backend.close()
    async with await psycopg.AsyncConnection.connect(
        backend.url, autocommit=True, row_factory=dict_row
    ) as conn:
        assert await migrate(conn) == []


async def test_postgres_servers_starting_at_once_migrate_once(postgres_database: str) -> None:
    """Servers opening a new database at the same moment all start; each migration (graphport's
    and langgraph's) is applied exactly once."""
    import psycopg

    from graphport.storage.postgres import PostgresStorage

    url = await fresh_schema(postgres_database)
    backends = [PostgresStorage(url, min_size=1, max_size=2) for _ in range(4)]
    await asyncio.gather(*(b.open() for b in backends))
    await asyncio.gather(*(b.close() for b in backends))
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for table, column in (
            ("graphport_migrations", "version"),
            ("checkpoint_migrations", "v"),
            ("store_migrations", "v"),
        ):
            cur = await conn.execute(f"SELECT count(*), count(DISTINCT {column}) FROM {table}")
            total, distinct = await cur.fetchone() or (0, 0)
            assert total == distinct > 0


async def test_processes_opening_a_new_sqlite_file_at_once_all_start(tmp_path: Path) -> None:
    """`--workers N` processes set up one new file at the same time: each sets the schema in
    turn (langgraph's store and saver migrate without a lock; two at once failed with
    "duplicate column name" and one process did not start)."""
    for round_ in range(5):
        path = str(tmp_path / f"shared-{round_}.sqlite")
        backends = [SqliteStorage(path, shared=True) for _ in range(3)]
        try:
            await asyncio.gather(*(b.open() for b in backends))
        finally:
            for b in backends:
                await b.close()


async def test_sqlite_crons_keep_their_data_without_epoch_columns(tmp_path: Path) -> None:
    """A file whose crons kept epoch copies of their instants (`next_run_at`, `end_at`) opens
    with its crons intact: read back, due and claimed by their ISO text."""
    from graphport.storage.sqlite.dialect import register_functions

    path = str(tmp_path / "old-crons.sqlite")
    version = next(i for i, m in enumerate(SQLITE_MIGRATIONS, 1) if "DROP COLUMN end_at" in m)
    due_at, end_at = iso(time.time() - 60), "2030-01-01T00:00:00+00:00"
    with sqlite3.connect(path) as conn:
        register_functions(conn)
        conn.execute("CREATE TABLE graphport_migrations (version INTEGER PRIMARY KEY)")
        for done, script in enumerate(SQLITE_MIGRATIONS[: version - 1], 1):
            conn.executescript(script)
            conn.execute("INSERT INTO graphport_migrations VALUES (?)", (done,))
        conn.execute(
            "INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name,"
            " version, created_at, updated_at) VALUES ('a', 'g', '{}', '{}', '{}', 'n', 1, ?, ?)",
            (due_at, due_at),
        )
        conn.execute(
            "INSERT INTO crons (cron_id, assistant_id, end_time, end_at, schedule, payload,"
            " next_run_date, next_run_at, metadata, enabled, created_at, updated_at)"
            " VALUES ('c', 'a', ?, ?, '* * * * *', '{}', ?, ?, '{}', 1, ?, ?)",
            (end_at, 1893456000.0, due_at, time.time() - 60, due_at, due_at),
        )
    backend = SqliteStorage(path)
    await backend.open()
    try:
        cron = await backend.get_cron("c")
        assert cron is not None
        assert (cron["next_run_date"], cron["end_time"]) == (due_at, end_at)
        due, _ = await backend.due_crons(time.time())
        assert [c["cron_id"] for c in due] == ["c"]
        assert await backend.claim_cron_firing("c", due_at, None) is not None
    finally:
        await backend.close()
