"""Logs an operator can read: the access log, one line per run end, a failed run's traceback,
JSON lines, and the reference's environment names."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import ROOT, Server, start_server

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
