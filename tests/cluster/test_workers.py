"""`graphport serve --workers N`: N processes on one port and one database (a SQLite file or
PostgreSQL), a killed one replaced by the supervisor and its runs finished by its siblings."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from langgraph_sdk import get_client

from graphport.listening import SPREADS_CONNECTIONS
from tests.cluster.conftest import CLUSTER_CONFIG, FAST
from tests.conftest import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    stop_process,
    wait_until,
)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'workers.sqlite'}"
        return
    name = f"graphport_workers_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield create_postgres_database(name)
    drop_postgres_database(name)


def _live_pids(database: str) -> set[int]:
    """Processes that heartbeat (read straight from the database); 5 s of slack, as a loaded
    machine delays heartbeats."""
    query = "SELECT pid FROM workers WHERE heartbeat_at > {cutoff}"
    try:
        if database.startswith("sqlite:///"):
            with sqlite3.connect(database.removeprefix("sqlite:///")) as conn:
                rows = conn.execute(query.format(cutoff=time.time() - 5)).fetchall()
        else:
            with psycopg.connect(database) as conn:
                rows = conn.execute(query.format(cutoff="now() - interval '5 seconds'")).fetchall()
    except (psycopg.errors.UndefinedTable, sqlite3.OperationalError):  # not migrated yet
        return set()
    return {r[0] for r in rows}


def _two_live(database: str) -> set[int] | None:
    pids = _live_pids(database)
    return pids if len(pids) == 2 else None


def _listening_sockets(port: int) -> int:
    """How many TCP sockets listen on `port` (Linux's /proc/net/tcp: state 0A is LISTEN)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        count += state == "0A" and int(local.split(":")[1], 16) == port
    return count


def test_workers_share_the_port_and_replace_a_killed_one(database: str, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphport", "serve", "--config", str(CLUSTER_CONFIG),
         "--port", str(port), "--database-url", database, "--workers", "2"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **FAST}, cwd=tmp_path,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def serve_log() -> str:
        log.flush()
        return f"live: {_live_pids(database)}\n" + (tmp_path / "serve.log").read_text()[-4000:]

    try:
        pids = wait_until(
            lambda: _two_live(database), what="two live processes", describe=serve_log
        )
        wait_until(lambda: httpx.get(url + "/ok").status_code == 200, ignore=(httpx.HTTPError,))
        if SPREADS_CONNECTIONS:  # each process accepts on a socket of its own (listening.py),
            # once its start-up is over (its heartbeat is stored earlier, so not yet at once)
            wait_until(lambda: _listening_sockets(port) == 2, what="a socket per process")

        async def scenario() -> None:
            client = get_client(url=url)
            runs = []
            for _ in range(6):
                thread = await client.threads.create()
                run = await client.runs.create(thread["thread_id"], "steps", input={"sleep": 0.5})
                runs.append((thread["thread_id"], run["run_id"]))
            await asyncio.sleep(0.2)
            os.kill(min(pids), signal.SIGKILL)  # one of the two, whatever it runs
            client = get_client(url=url)  # connections to the killed process are gone
            for thread_id, run_id in runs:
                result = await asyncio.wait_for(client.runs.join(thread_id, run_id), 60)
                assert result["steps"] == ["first", "second"]

        asyncio.run(scenario())
        # the supervisor has started a new process in place of the killed one
        wait_until(
            lambda: len(_live_pids(database) - {min(pids)}) == 2,
            what="a replacement process",
            describe=serve_log,
        )
        if SPREADS_CONNECTIONS:  # the killed process's socket is gone, its replacement's open
            wait_until(lambda: _listening_sockets(port) == 2, what="the replacement's socket")
    finally:
        stop_process(proc, grace=30)
        log.close()
    assert proc.returncode is not None


def test_workers_need_a_shared_database(tmp_path: Path) -> None:
    """An in-memory database cannot be shared: --workers 2 on it is refused clearly."""
    out = subprocess.run(
        [sys.executable, "-m", "graphport", "serve", "--config", str(CLUSTER_CONFIG),
         "--database-url", ":memory:", "--workers", "2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    assert "--workers > 1 needs a database the processes can share" in out.stderr


def test_workers_refuse_a_broken_graph_once(tmp_path: Path) -> None:
    """The check before the workers start says what is wrong once and exits 1, as one process."""
    config = tmp_path / "langgraph.json"
    config.write_text('{"graphs": {"agent": "./nowhere.py:graph"}}')
    out = subprocess.run(
        [sys.executable, "-m", "graphport", "serve", "--config", str(config),
         "--port", str(free_port()), "--workers", "2"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert out.stderr.count("Could not find graph file") == 1, out.stderr
    assert "serving on" not in out.stderr


def test_the_supervisor_never_loads_the_graphs(tmp_path: Path) -> None:
    """A graph module that records the processes importing it: the check and each worker do,
    the supervisor (which only watches its workers) does not, so it costs no graph's memory."""
    (tmp_path / "agent.py").write_text(
        "import os, pathlib\n"
        "with pathlib.Path(__file__).with_name('importers').open('a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')\n"
        "from langgraph.graph import StateGraph\n"
        "builder = StateGraph(dict)\n"
        "builder.add_node('n', lambda s: s)\n"
        "builder.set_entry_point('n')\n"
        "graph = builder.compile()\n"
    )
    config = tmp_path / "langgraph.json"
    config.write_text('{"graphs": {"agent": "./agent.py:graph"}}')
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphport", "serve", "--config", str(config),
             "--port", str(port), "--workers", "2"],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    importers = tmp_path / "importers"
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: httpx.get(url + "/ok").status_code == 200,
            ignore=(httpx.HTTPError,),
            what="the server answering",
            describe=log.read_text,
        )
        wait_until(
            lambda: importers.exists() and len(importers.read_text().split()) >= 3,
            what="the check and both workers importing the graph",
        )
        pids = {int(p) for p in importers.read_text().split()}
        assert proc.pid not in pids
        assert len(pids) >= 3  # the check's child, then one per worker
    finally:
        stop_process(proc, grace=30)
