"""The `storage` fixture: one contract suite over every backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from graphport.storage.base import Capability, Storage
from graphport.storage.sqlite import SqliteStorage
from tests.conftest import create_postgres_database, drop_postgres_database


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the session (skipped with a reason if unreachable)."""
    name = f"graphport_contract_{os.getpid()}"
    url = create_postgres_database(name)
    yield url
    drop_postgres_database(name)


async def fresh_schema(database_url: str) -> str:
    """The URL of a new, empty schema of the session database (its only search_path entry)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in database_url else "?"
    return f"{database_url}{sep}options={quote(f'-csearch_path={schema}')}"


async def open_postgres(database_url: str) -> Storage:
    """A PostgresStorage on a fresh schema of the session database: every test starts empty."""
    from graphport.storage.postgres import PostgresStorage

    backend = PostgresStorage(await fresh_schema(database_url))
    await backend.open()
    return backend


@pytest.fixture(params=["sqlite-file", "sqlite-shared", "sqlite-memory", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "sqlite-file":
        backend: Storage = SqliteStorage(str(tmp_path / "contract.sqlite"))
    elif request.param == "sqlite-shared":  # a file several processes share (--workers)
        backend = SqliteStorage(str(tmp_path / "contract.sqlite"), shared=True)
    elif request.param == "sqlite-memory":
        backend = SqliteStorage(":memory:")
    else:
        backend = await open_postgres(request.getfixturevalue("postgres_database"))
    if request.param != "postgres":
        await backend.open()
    try:
        _select_by_capability(request, request.param, backend)
        yield backend
    finally:
        await backend.close()


def _select_by_capability(request: pytest.FixtureRequest, name: str, backend: Storage) -> None:
    """A test marked `capability(C)` runs where the backend offers C; `capability(C,
    offered=False)` where it does not (the behaviour without it). Elsewhere it is reported as
    not applicable, naming the capability, never passed silently."""
    for mark in request.node.iter_markers("capability"):
        capability: Capability = mark.args[0]
        wanted = mark.kwargs.get("offered", True)
        if (capability in backend.capabilities) != wanted:
            has = "offers" if capability in backend.capabilities else "does not offer"
            pytest.skip(f"{name} {has} capability {capability.value}")
