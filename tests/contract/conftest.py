"""The `storage` fixture: one contract suite over every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graphport.storage.base import Storage
from graphport.storage.sqlite import SqliteStorage


@pytest.fixture(params=["sqlite-file", "sqlite-memory"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "sqlite-file":
        backend: Storage = SqliteStorage(str(tmp_path / "contract.sqlite"))
    else:
        backend = SqliteStorage(":memory:")
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()
