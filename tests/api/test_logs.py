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
