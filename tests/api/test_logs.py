"""Logs an operator can read: the access log, one line per run end, a failed run's traceback,
JSON lines, the log level, graph import errors, the reference's environment names, and
`/ok?check_db=1`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import (
    ROOT,
    Server,
    create_postgres_database,
    drop_postgres_database,
    postgres_url,
    start_server,
    wait_until,
)

GRAPHS = ROOT / "tests" / "graphs"


@pytest.fixture
def own_server(server: Server) -> None:
    if server.process is None:
        pytest.skip("reads the log of a graphport server it starts")


def _config(tmp: Path) -> Path:
    config = tmp / "langgraph.json"
    http = {"logging_headers": {"include": ["x-trace*"], "exclude": ["x-trace-secret"]}}
    graphs = {"echo": f"{GRAPHS}/graphs.py:echo", "boom": f"{GRAPHS}/graphs.py:boom"}
    config.write_bytes(orjson.dumps({"graphs": graphs, "http": http}))
    return config


def test_access_log_run_end_and_traceback(tmp_path: Path, own_server: None) -> None:
    srv = start_server(tmp_path, config=_config(tmp_path))
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            headers = {"x-trace-id": "t1", "x-trace-secret": "s", "authorization": "Bearer x"}
            c.post("/runs/wait", json={"assistant_id": "echo", "input": {}}, headers=headers)
            c.post("/runs/wait", json={"assistant_id": "boom", "input": {}})
            c.get("/threads/00000000-0000-0000-0000-000000000000")
    finally:
        srv.stop()
    log = srv.log()
    access = [line for line in log.splitlines() if "graphport.access" in line]
    assert any("POST /runs/wait 200" in line and "x-trace-id=t1" in line for line in access)
    assert not any("x-trace-secret" in line or "Bearer" in line for line in access)
    assert any("WARNING" in line and "GET /threads/" in line and " 404 " in line for line in access)
    ends = [line for line in log.splitlines() if " ended: graph=" in line]
    assert any("graph=echo status=success" in line and "attempt=1" in line for line in ends)
    assert any("graph=boom status=error" in line and "duration=" in line for line in ends)
    assert "Traceback (most recent call last)" in log


def test_json_logs_and_reference_env_names(tmp_path: Path, own_server: None) -> None:
    srv = start_server(
        tmp_path, config=_config(tmp_path), extra_env={"LOG_JSON": "true", "MOUNT_PREFIX": "/p"}
    )
    try:
        assert httpx.get(srv.url + "/p/info", timeout=30).status_code == 200
    finally:
        srv.stop()
    entries = [json.loads(line) for line in srv.log().splitlines() if line.startswith("{")]
    assert any(e["logger"] == "graphport.access" and "GET /p/info 200" in e["message"]
               for e in entries)  # fmt: skip
    assert all({"timestamp", "level", "message"} <= e.keys() for e in entries)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_is_one_line_and_no_serving_on(
    tmp_path: Path, own_server: None, workers: str
) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "graphport", "serve", "--config", str(_config(tmp_path)),
             "--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'db.sqlite'}",
             "--workers", workers],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "address already in use" in output.lower() and "serving on" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serving_on_once_bound(tmp_path: Path, own_server: None, workers: str) -> None:
    srv = start_server(tmp_path, config=_config(tmp_path), extra_env={"GRAPHPORT_WORKERS": workers})
    srv.stop()
    assert f"serving on {srv.url}" in srv.log()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://nobody@127.0.0.1:1/x", "Cannot connect to PostgreSQL"),
        ("mysql://db/app", "Unsupported database URL 'mysql://db/app'"),
        ("sqlite:////proc/nope/x.sqlite", "cannot open the SQLite database /proc/nope/x.sqlite"),
        ("sqlite:///not-a-database.sqlite", "not-a-database.sqlite: file is not a database"),
        ("redis", "Redis is not reachable at redis://127.0.0.1:1"),
    ],
)
def test_database_problems_are_one_line(
    tmp_path: Path, own_server: None, url: str, message: str
) -> None:
    import subprocess
    import sys

    (tmp_path / "not-a-database.sqlite").write_text("graphport was here, but not as SQLite\n" * 9)
    extra = []
    if url == "redis":  # a good database beside an unreachable bus
        url, extra = f"sqlite:///{tmp_path / 'ok.sqlite'}", ["--redis-url", "redis://127.0.0.1:1"]
    done = subprocess.run(
        [sys.executable, "-m", "graphport", "serve", "--config", str(_config(tmp_path)),
         "--port", "0", "--database-url", url, *extra],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stdout + done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_ok_checks_the_database_on_request(http: httpx.Client) -> None:
    r = http.get("/ok", params={"check_db": "1"})
    assert r.status_code == 200 and r.json()["ok"] is True


LEVEL = re.compile(r"^\S+ \S+ \d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+):", re.MULTILINE)


def _traffic(srv: Server) -> str:
    """A run that succeeds, one that fails and a 404; the server's log once it has stopped."""
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert c.post("/runs/wait", json={"assistant_id": "echo", "input": {}}).is_success
            c.post("/runs/wait", json={"assistant_id": "boom", "input": {}})
            assert c.get("/threads/00000000-0000-0000-0000-000000000000").status_code == 404
    finally:
        srv.stop()
    return srv.log()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--log-level", "warning"], {}),
        ([], {"GRAPHPORT_LOG_LEVEL": "warning"}),
        ([], {"LOG_LEVEL": "WARNING"}),  # the reference's name
        (["--log-level", "warning"], {"LOG_LEVEL": "debug"}),  # the flag wins
    ],
)
def test_log_level_warning_keeps_only_warnings_and_errors(
    tmp_path: Path, own_server: None, args: list[str], env: dict[str, str]
) -> None:
    log = _traffic(start_server(tmp_path, config=_config(tmp_path), extra_args=args, extra_env=env))
    levels = {level for level, _ in LEVEL.findall(log)}
    assert levels and levels <= {"WARNING", "ERROR", "CRITICAL"}, log
    assert "POST /runs/wait 200" not in log and "serving on" not in log
    assert "graph=echo status=success" not in log
    assert "graph=boom status=error" in log and "Traceback (most recent call last)" in log
    assert re.search(r"WARNING graphport\.access: GET /threads/\S+ 404", log)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--log-level", "debug"], {}),
        ([], {"GRAPHPORT_LOG_LEVEL": "debug"}),
        ([], {"LOG_LEVEL": "debug"}),
    ],
)
def test_log_level_debug_adds_debug_lines(
    tmp_path: Path, own_server: None, args: list[str], env: dict[str, str]
) -> None:
    log = _traffic(start_server(tmp_path, config=_config(tmp_path), extra_args=args, extra_env=env))
    assert "DEBUG" in {level for level, _ in LEVEL.findall(log)}
    assert "INFO graphport.access: POST /runs/wait 200" in log
    assert "graph=echo status=success" in log and "serving on" in log


def test_info_is_the_default_level(tmp_path: Path, own_server: None) -> None:
    log = _traffic(start_server(tmp_path, config=_config(tmp_path)))
    levels = {level for level, _ in LEVEL.findall(log)}
    assert "INFO" in levels and "DEBUG" not in levels
    assert "INFO graphport.access: POST /runs/wait 200" in log


def _outage(name: str) -> None:
    """The database goes away under a running server: no new connections, the open ones ended,
    its name gone (the server's pool cannot reconnect)."""
    import psycopg

    with psycopg.connect(postgres_url("postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')


def _recovery(name: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url("postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}_away" RENAME TO "{name}"')
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_ok_check_db_is_503_while_postgres_is_unreachable(tmp_path: Path, own_server: None) -> None:
    name = f"graphport_test_ok_{os.getpid()}"
    srv = start_server(
        tmp_path, config=_config(tmp_path), database_url=create_postgres_database(name)
    )
    check = {"check_db": "1"}
    try:
        # the check waits seconds for a connection, not the pool's 30 s
        with httpx.Client(base_url=srv.url, timeout=20) as c:
            ok = c.get("/ok", params=check)
            assert ok.status_code == 200 and ok.json()["ok"] is True
            _outage(name)
            wait_until(
                lambda: c.get("/ok", params=check).status_code == 503,
                what="/ok?check_db=1 answering 503",
                describe=srv.log,
            )
            for _ in range(4):  # every check while it lasts, not only those of a killed connection
                down = c.get("/ok", params=check)
                assert down.status_code == 503
                assert down.headers["content-type"].startswith("application/json")
                assert list(down.json()) == ["detail"]
                assert down.json()["detail"].startswith("storage unreachable: ")
            assert c.get("/ok").status_code == 200  # without check_db storage is not touched
            _recovery(name)
            wait_until(
                lambda: c.get("/ok", params=check).status_code == 200,
                what="/ok?check_db=1 answering 200 again",
                describe=srv.log,
            )
    finally:
        srv.stop()
        drop_postgres_database(f"{name}_away")
        drop_postgres_database(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_stop_with_no_run_running_hands_back_none(
    tmp_path: Path, own_server: None, backend: str
) -> None:
    name = f"graphport_test_stop_{os.getpid()}"
    db = create_postgres_database(name) if backend == "postgres" else None
    try:
        log = _traffic(start_server(tmp_path, config=_config(tmp_path), database_url=db))
    finally:
        if db:
            drop_postgres_database(name)
    assert "graph=echo status=success" in log
    assert "handed back" not in log


SYNTAX_ERROR = "import os\n\n\ndef broken(:\n    pass\n"
RAISES = """import os


def read_key():
    raise RuntimeError("no API key in the environment")


KEY = read_key()
graph = None
"""
# (file text, the message's cause, its line, the traceback's lines)
IMPORT_ERRORS = {
    "syntax error": (SYNTAX_ERROR, "SyntaxError: invalid syntax", 4, ["def broken(:"]),
    "exception": (
        RAISES,
        "RuntimeError: no API key in the environment",
        5,
        ["Traceback (most recent call last)", 'graph.py", line 8, in <module>',
         'graph.py", line 5, in read_key', 'raise RuntimeError("no API key in the environment")'],
    ),
}  # fmt: skip


def write_broken_graph(folder: Path, kind: str) -> Path:
    (folder / "graph.py").write_text(IMPORT_ERRORS[kind][0])
    config = folder / "langgraph.json"
    config.write_text('{"graphs": {"agent": "./graph.py:graph"}}')
    return config


def check_import_error(output: str, folder: Path, kind: str) -> None:
    """One line naming the graph, the file and the line, then the user's traceback."""
    _, cause, line, trace = IMPORT_ERRORS[kind]
    file = folder.resolve() / "graph.py"
    first = f"Graph 'agent': importing ./graph.py failed: {cause} ({file}, line {line})"
    assert first in output, output
    after = output[output.index(first) :]
    assert all(part in after for part in trace), output
    assert "graphport/graphs.py" not in output and "importlib" not in output  # the user's frames


@pytest.mark.parametrize("kind", IMPORT_ERRORS)
def test_a_graph_that_fails_to_import_stops_serve(
    tmp_path: Path, own_server: None, kind: str
) -> None:
    config = write_broken_graph(tmp_path, kind)
    done = subprocess.run(
        [sys.executable, "-m", "graphport", "serve", "--config", str(config), "--port", "0",
         "--database-url", f"sqlite:///{tmp_path / 'db.sqlite'}"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("graphport: Graph 'agent'"), done.stderr
    check_import_error(done.stderr, tmp_path, kind)
    assert "serving on" not in done.stdout + done.stderr
