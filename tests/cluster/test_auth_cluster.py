"""Custom auth across processes: two servers on one database give the same answers to the same
user whichever of them answers, and a run started on one carries its user on the other."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from tests.cluster.conftest import FAST
from tests.conftest import (
    Server,
    create_postgres_database,
    drop_postgres_database,
    start_server,
)

CONFIG = Path(__file__).parent.parent / "graphs" / "langgraph-auth.json"


@pytest.fixture(params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Server]]:
    env = dict(FAST)
    name = ""
    if request.param == "sqlite":
        env["GRAPHPORT_SQLITE_SHARED"] = "1"
        url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    else:
        name = f"graphport_auth_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        url = create_postgres_database(name)
    servers: list[Server] = []
    try:
        for _ in range(2):
            servers.append(start_server(tmp_path, config=CONFIG, database_url=url, extra_env=env))
        yield servers
    finally:
        for server in servers:
            server.stop()
        if name:
            drop_postgres_database(name)


def _as(server: Server, user: str):  # type: ignore[no-untyped-def]
    return get_sync_client(url=server.url, headers={"Authorization": f"Bearer {user}-token"})


def test_decisions_do_not_depend_on_the_process(pair: list[Server]) -> None:
    first, second = pair
    tid = _as(first, "alice").threads.create()["thread_id"]
    assert _as(second, "alice").threads.get(tid)["metadata"]["owner"] == "alice"
    with pytest.raises(NotFoundError):
        _as(second, "bob").threads.get(tid)
    assert tid not in [t["thread_id"] for t in _as(second, "bob").threads.search(limit=100)]
    # a run asked for on one process, joined on the other, knows who asked for it
    run = _as(second, "alice").runs.create(tid, "whoami", input={})
    _as(first, "alice").runs.join(tid, run["run_id"])
    who = _as(first, "alice").threads.get_state(tid)["values"]["who"]
    assert who["user_id"] == "alice" and who["runtime_identity"] == "alice"
    # bob's "cancel everything" on one process spares alice's run on the other
    long = _as(first, "alice").runs.create(tid, "sleepy", input={"sleep": 2})
    assert _as(second, "bob").runs.cancel_many(status="all") is None
    _as(first, "alice").runs.join(tid, long["run_id"])
    assert _as(second, "alice").runs.get(tid, long["run_id"])["status"] == "success"
