"""Shared fixtures: a live `graphport serve` subprocess over loopback.

Set GRAPHPORT_TEST_URL to run the black-box suites against an already running server instead
(for example the reference `langgraph dev` serving tests/graphs/langgraph.json).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAPHS_CONFIG = ROOT / "tests" / "graphs" / "langgraph.json"

for _name in list(os.environ):  # GRAPHPORT_TEST_* configure the tests, not the server
    if _name.startswith("GRAPHPORT_") and not _name.startswith("GRAPHPORT_TEST_"):
        del os.environ[_name]

# GRAPHPORT_TEST_BACKEND=postgres serves the black-box suites from PostgreSQL (a fresh database
# per server data directory) instead of SQLite; GRAPHPORT_TEST_POSTGRES is the server to use.
BACKEND = os.environ.get("GRAPHPORT_TEST_BACKEND", "sqlite")
POSTGRES = os.environ.get("GRAPHPORT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
if "://" not in POSTGRES:  # host:port
    POSTGRES = f"postgresql://postgres@{POSTGRES}"
_postgres_databases: dict[str, str] = {}  # data directory -> database name


def postgres_url(database: str) -> str:
    base, _, query = POSTGRES.partition("?")
    base = base.rstrip("/")
    if base.count("/") > 2:  # a database is named: replace it
        base = base.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


def require_postgres() -> None:
    """Skip (fail when CI is set: CI must not skip silently) if PostgreSQL is unreachable."""
    import psycopg

    try:
        psycopg.connect(postgres_url("postgres"), connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES} (GRAPHPORT_TEST_POSTGRES): {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def create_postgres_database(name: str) -> str:
    """Create an empty database (dropping a leftover of that name); return its URL."""
    import psycopg

    require_postgres()
    with psycopg.connect(postgres_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url(name)


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def default_database_url(tmp: Path) -> str:
    """The database of a server whose data directory is `tmp` (restarts reuse it)."""
    if BACKEND != "postgres":
        return f"sqlite:///{tmp / 'graphport.sqlite'}"
    key = str(tmp.resolve())
    if key not in _postgres_databases:
        name = f"graphport_test_{os.getpid()}_{len(_postgres_databases)}"
        create_postgres_database(name)
        _postgres_databases[key] = name
    return postgres_url(_postgres_databases[key])


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    for name in _postgres_databases.values():
        drop_postgres_database(name)


def wait_until(
    check: Callable[[], Any],
    limit: float = 60.0,
    *,
    what: str = "the condition",
    interval: float = 0.1,
    ignore: tuple[type[BaseException], ...] = (),
    describe: Callable[[], str] | None = None,
) -> Any:
    """Poll `check()` until it returns something truthy, and return that. `limit` is a generous
    deadline for a loaded machine, never a timing assertion; exceptions in `ignore` count as
    not yet; `describe()` adds what a failure needs to be understood (a server's log, say)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            result = check()
        except ignore:
            result = None
        if result:
            return result
        time.sleep(interval)
    detail = f"\n{describe()}" if describe else ""
    raise AssertionError(f"{what} not reached within {limit:g} s{detail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(process: subprocess.Popen[Any], grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes] | None
    log_path: Path | None
    args: list[str]

    @property
    def is_reference(self) -> bool:
        return self.process is None and "GRAPHPORT_TEST_URL" in os.environ

    def stop(self, sig_kill: bool = False) -> None:
        if self.process is None:
            return
        if sig_kill:
            self.process.kill()
            self.process.wait(5)
        else:
            stop_process(self.process)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""


def start_server(
    tmp: Path,
    *,
    config: Path = GRAPHS_CONFIG,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
    extra_args: list[str] | None = None,
) -> Server:
    """Start `graphport serve` (`extra_args` after its options) and wait until /ok answers
    (fail fast with its log if not)."""
    port = port or free_port()
    db = database_url or default_database_url(tmp)
    args = [
        sys.executable, "-m", "graphport", "serve", "--config", str(config),
        "--host", "127.0.0.1", "--port", str(port), "--database-url", db, *(extra_args or []),
    ]  # fmt: skip
    log_path = tmp / f"server-{port}.log"
    env = {**os.environ, **(extra_env or {})}
    with log_path.open("ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    server = Server(f"http://127.0.0.1:{port}", proc, log_path, args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"graphport serve exited with {proc.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/ok", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop(sig_kill=True)
    raise RuntimeError(f"graphport serve did not answer /ok within 60 s:\n{server.log()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = os.environ.get("GRAPHPORT_TEST_URL")
    if url:
        yield Server(url.rstrip("/"), None, None, [])
        return
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def url(server: Server) -> str:
    return server.url


@pytest.fixture
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture
def graphport_only(server: Server) -> None:
    if server.process is None:
        pytest.skip("tests graphport's own improvements over the reference")
