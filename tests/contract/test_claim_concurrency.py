"""Storage contract: claims from several processes (two storages on one database) at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graphport.models import Run
from graphport.storage.base import Storage
from graphport.storage.sqlite import SqliteStorage
from tests.contract.conftest import open_postgres
from tests.contract.test_storage_runs import finish, make_run, make_thread


@pytest.fixture(params=["sqlite-file", "postgres"])
async def two_storages(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Storage, Storage]]:
    if request.param == "sqlite-file":
        path = str(tmp_path / "claims.sqlite")
        first: Any = SqliteStorage(path)
        await first.open()
        second: Any = SqliteStorage(path)
    else:
        from graphport.storage.postgres import PostgresStorage

        first = await open_postgres(request.getfixturevalue("postgres_database"))
        second = PostgresStorage(first.url)
    await second.open()
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def test_concurrent_claims_run_each_run_once_one_per_thread_in_order(
    two_storages: tuple[Storage, Storage],
) -> None:
    """Workers of two processes claiming and finishing at once: every run runs exactly once,
    never two of a thread at a time, and a thread's runs in the order they were created."""
    first, second = two_storages
    created: dict[str, list[str]] = {}
    for _ in range(6):
        thread = make_thread()
        created[thread["thread_id"]] = []
        for i in range(5):
            run = make_run(thread["thread_id"])
            await first.create_run(run, thread if i == 0 else None, claim=False)
            created[thread["thread_id"]].append(run["run_id"])
    running: set[str] = set()
    order: dict[str, list[str]] = {tid: [] for tid in created}
    total = sum(len(r) for r in created.values())

    async def execute(storage: Storage, run: Run) -> None:
        await asyncio.sleep(0.001)
        running.discard(run["thread_id"])  # before the end is committed
        await storage.finish_run(finish(run))

    async def worker(storage: Storage) -> None:
        deadline = time.monotonic() + 30
        while sum(len(o) for o in order.values()) < total and time.monotonic() < deadline:
            claimed = (await storage.claim_runs(3, time.time())).claimed
            for run in claimed:
                assert run["thread_id"] not in running, "two runs of one thread at once"
                running.add(run["thread_id"])
                order[run["thread_id"]].append(run["run_id"])
            await asyncio.gather(*(execute(storage, run) for run in claimed))
            if not claimed:
                await asyncio.sleep(0.001)

    await asyncio.gather(*(worker(s) for s in (first, second, first, second)))
    assert order == created
