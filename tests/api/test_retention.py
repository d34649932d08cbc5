"""Bounded storage, counted in the database's own tables (SQLite file or PostgreSQL database):
a stateless run leaves no row behind however it ends (success, error, cancel, client gone,
timeout, kill -9 and restart), and a deleted thread stays deleted, even while its run was
still writing checkpoints."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from tests.conftest import (
    BACKEND,
    GRAPHS_CONFIG,
    Server,
    default_database_url,
    start_server,
    wait_until,
)


def tables(database_url: str) -> tuple[str, ...]:
    """graphport's thread and run tables and langgraph's checkpointer tables."""
    if database_url.startswith("postgresql://"):
        return ("threads", "runs", "checkpoints", "checkpoint_blobs", "checkpoint_writes")
    return ("threads", "runs", "checkpoints", "writes")


EMPTY = dict.fromkeys(tables("postgresql://" if BACKEND == "postgres" else "sqlite:///"), 0)


def count_rows(database_url: str, thread_id: str | None = None) -> dict[str, int]:
    """Rows of each table (of one thread, when given), read straight from the database."""
    where = " WHERE thread_id = %s" if thread_id else ""
    args = (thread_id,) if thread_id else ()
    if database_url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            return {
                t: conn.execute(f"SELECT count(*) FROM {t}{where}", args).fetchone()[0]  # type: ignore[index]
                for t in tables(database_url)
            }
    conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        where = where.replace("%s", "?")
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}{where}", args).fetchone()[0]
            for t in tables(database_url)
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, Path]]:
    if os.environ.get("GRAPHPORT_TEST_URL"):
        pytest.skip("counts the rows of a graphport server of its own")
    tmp = tmp_path_factory.mktemp("retention")
    db = default_database_url(tmp)
    # runs longer than 3 s time out (the timeout case; every other run here is quicker)
    srv = start_server(tmp, database_url=db, extra_env={"GRAPHPORT_RUN_TIMEOUT": "3"})
    yield srv, db, tmp
    srv.stop()


def running_rows(db: str) -> dict[str, int]:
    """The counts once a stateless run is in flight: its temporary thread and its run."""
    return wait_until(lambda: (c := count_rows(db))["runs"] == 1 and c)


# -- stateless runs -----------------------------------------------------------------------


def test_stateless_success_and_error_leave_nothing(own: tuple[Server, str, Path]) -> None:
    srv, db, _ = own
    assert count_rows(db) == EMPTY
    client = get_sync_client(url=srv.url)
    assert client.runs.wait(None, "echo", input={"messages": ["x"]})["messages"] == ["x", "hi"]
    assert count_rows(db) == EMPTY
    failed = client.runs.wait(None, "boom", input={"messages": ["x"]}, raise_error=False)
    assert failed["__error__"]["message"] == "kaboom"
    assert count_rows(db) == EMPTY
    streamed = list(client.runs.stream(None, "echo", input={"messages": ["y"]}))
    assert streamed[-1].event == "values"
    assert count_rows(db) == EMPTY


def test_stateless_cancelled_leaves_nothing(own: tuple[Server, str, Path]) -> None:
    srv, db, _ = own
    client = get_sync_client(url=srv.url)
    run = client.runs.create(None, "sleepy", input={"sleep": 30})
    during = running_rows(db)
    assert during == {**EMPTY, "threads": 1, "runs": 1}  # no checkpoint even in flight
    client.runs.cancel(run["thread_id"], run["run_id"])
    wait_until(lambda: count_rows(db) == EMPTY)


def test_stateless_stream_whose_client_leaves_leaves_nothing(
    own: tuple[Server, str, Path],
) -> None:
    """POST /runs/stream cancels its run when the client disconnects (on_disconnect's default
    for stateless runs)."""
    srv, db, _ = own
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        body = {"assistant_id": "sleepy", "input": {"sleep": 30}, "stream_mode": ["values"]}
        with c.stream("POST", "/runs/stream", json=body) as resp:
            for line in resp.iter_lines():
                if line.startswith("data:") and "start" in line:
                    break
            assert count_rows(db)["runs"] == 1
    wait_until(lambda: count_rows(db) == EMPTY)


def test_stateless_timeout_leaves_nothing(own: tuple[Server, str, Path]) -> None:
    srv, db, _ = own
    client = get_sync_client(url=srv.url)
    result = client.runs.wait(None, "sleepy", input={"sleep": 30}, raise_error=False)
    assert "TimeoutError" in str(result)
    assert count_rows(db) == EMPTY


def test_stateless_run_of_a_killed_server_is_cleaned_after_restart(
    own: tuple[Server, str, Path],
) -> None:
    """kill -9 while a stateless run is in flight leaves its thread and run rows (and no
    checkpoint: a stateless run's are in memory); the restarted server runs it again, it
    times out, and then nothing is left."""
    srv, db, tmp = own
    client = get_sync_client(url=srv.url)
    client.runs.create(None, "sleepy", input={"sleep": 30})
    assert running_rows(db) == {**EMPTY, "threads": 1, "runs": 1}
    port = int(srv.url.rsplit(":", 1)[1])
    srv.stop(sig_kill=True)
    assert count_rows(db) == {**EMPTY, "threads": 1, "runs": 1}  # what the crash left
    again = start_server(tmp, database_url=db, port=port, extra_env={"GRAPHPORT_RUN_TIMEOUT": "3"})
    srv.process = again.process  # the module's server from now on
    wait_until(lambda: count_rows(db) == EMPTY)
    assert get_sync_client(url=srv.url).threads.search() == []


# -- deleted threads stay deleted ---------------------------------------------------------


def test_thread_deleted_while_its_run_writes_stays_deleted(own: tuple[Server, str, Path]) -> None:
    """A run that writes a checkpoint at every step (`loop`) is cancelled by DELETE: once it
    has ended, the thread has no row, no checkpoint and no pending write, search and count
    do not see it, and a new thread of that id starts empty."""
    srv, db, _ = own
    client = get_sync_client(url=srv.url)
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "loop", input={"messages": []}, config={"recursion_limit": 10**6})
    wait_until(lambda: count_rows(db, tid)["checkpoints"] > 20)
    client.threads.delete(tid)
    assert client.threads.search(ids=[tid]) == []
    assert client.threads.count() == 0
    # the run has ended (its slot is free, its log line written): whatever it was still
    # writing was either deleted with the thread or never stored
    wait_until(lambda: f"run {run['run_id']} ended" in srv.log())
    assert count_rows(db, tid) == EMPTY
    with pytest.raises(NotFoundError):
        client.threads.get(tid)
    client.threads.create(thread_id=tid)
    assert client.threads.get_state(tid)["values"] == {}
    client.threads.delete(tid)


# -- checkpointer.ttl ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ttl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """threads expire 0.6 s after they are created unless they have a TTL of their own, and
    are swept every 0.12 s."""
    if os.environ.get("GRAPHPORT_TEST_URL"):
        pytest.skip("counts the rows of a graphport server of its own")
    tmp = tmp_path_factory.mktemp("ttl")
    graphs = GRAPHS_CONFIG.parent / "graphs.py"
    config = tmp / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "graphs": {"echo": f"{graphs}:echo"},
                "checkpointer": {
                    "ttl": {
                        "strategy": "delete",
                        "default_ttl": 0.01,
                        "sweep_interval_minutes": 0.002,
                    }
                },
            }
        )
    )
    db = default_database_url(tmp)
    srv = start_server(tmp, config=config, database_url=db)
    yield srv, db
    srv.stop()


def gone(client: Any, thread_id: str) -> bool:
    try:
        client.threads.get(thread_id)
    except NotFoundError:
        return True
    return False


def test_default_ttl_deletes_threads_and_their_checkpoints(ttl_server: tuple[Server, str]) -> None:
    """A thread created without a TTL, by POST /threads or by a run, is deleted by a sweep
    once default_ttl has passed: no row, checkpoint or write left, not in search or count.
    A thread with a TTL of its own keeps it."""
    srv, db = ttl_server
    client = get_sync_client(url=srv.url)
    kept = client.threads.create(ttl={"strategy": "delete", "ttl": 600})["thread_id"]
    made = client.threads.create()["thread_id"]
    client.runs.wait(made, "echo", input={"messages": ["x"]})
    by_run = str(uuid.uuid4())
    client.runs.wait(by_run, "echo", input={"messages": ["y"]}, if_not_exists="create")
    before = {tid: count_rows(db, tid) for tid in (made, by_run)}
    wait_until(lambda: gone(client, made) and gone(client, by_run))
    for tid in (made, by_run):
        assert before[tid]["checkpoints"] > 0 and before[tid]["threads"] == 1
        assert count_rows(db, tid) == EMPTY
    assert [t["thread_id"] for t in client.threads.search()] == [kept]
    assert client.threads.count() == 1
    assert count_rows(db)["threads"] == 1


def test_keep_latest_ttl_prunes_and_keeps_the_thread(ttl_server: tuple[Server, str]) -> None:
    """A thread whose TTL strategy is keep_latest keeps its row, runs and state when its TTL
    passes; only its latest checkpoint (and that one's writes) stays."""
    srv, db = ttl_server
    client = get_sync_client(url=srv.url)
    tid = client.threads.create(ttl={"strategy": "keep_latest", "ttl": 0.03})["thread_id"]
    for text in ("a", "b"):
        client.runs.wait(tid, "echo", input={"messages": [text]})
    before = count_rows(db, tid)
    assert before["checkpoints"] > 2
    wait_until(lambda: count_rows(db, tid)["checkpoints"] == 1)
    after = count_rows(db, tid)
    assert after["threads"] == 1 and after["runs"] == 2
    assert client.threads.get_state(tid)["values"]["messages"] == ["a", "hi", "b", "hi"]
    assert len(client.threads.get_history(tid)) == 1
    assert tid in [t["thread_id"] for t in client.threads.search(limit=100)]
    client.runs.wait(tid, "echo", input={"messages": ["c"]})  # it goes on from there
    assert client.threads.get_state(tid)["values"]["messages"][-2:] == ["c", "hi"]
    bad = httpx.post(f"{srv.url}/threads", json={"ttl": {"strategy": "archive", "ttl": 1}})
    assert bad.status_code == 422 and "archive" in bad.json()["detail"]
