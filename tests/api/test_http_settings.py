"""The `http` block of langgraph.json: disable switches, mount prefix, copied headers, CORS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Server, start_server


@pytest.fixture
def http_server(tmp_path: Path, server: Server) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("needs a graphport server with its own http settings")
    srv = start_server(tmp_path, config=ROOT / "tests" / "graphs" / "langgraph-http.json")
    yield srv
    srv.stop()


def test_mount_prefix_disable_switch_and_headers(http_server: Server) -> None:
    with httpx.Client(base_url=http_server.url, timeout=30) as c:
        assert c.get("/ok").json() == {"ok": True, "services": {}}
        assert c.get("/api/ok").status_code == 200
        assert c.post("/runs/wait", json={"assistant_id": "echo"}).status_code == 404
        assert c.get("/api/assistants/echo").status_code == 404  # disable_assistants
        r = c.post(
            "/api/runs/wait",
            json={"assistant_id": "inspect", "input": {"messages": []}},
            headers={"x-foo-bar": "1", "x-foo-secret": "s", "x-other": "o",
                     "authorization": "Bearer t"},
        )  # fmt: skip
        configurable = r.json()["seen"]["configurable"]
        assert configurable["x-foo-bar"] == "1"
        assert "x-foo-secret" not in configurable and "x-other" not in configurable
        assert "authorization" not in configurable
        assert r.headers["content-location"].startswith("/threads/")


def test_configured_cors_origins(http_server: Server) -> None:
    with httpx.Client(base_url=http_server.url, timeout=30) as c:
        ok = c.get("/api/info", headers={"origin": "https://app.example"})
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        other = c.get("/api/info", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_body_limit_and_request_id(tmp_path: Path, server: Server) -> None:
    if server.process is None:
        pytest.skip("needs a graphport server with a small body limit")
    srv = start_server(tmp_path, extra_env={"GRAPHPORT_MAX_BODY_BYTES": "2000"})
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            big = c.post("/runs/wait", json={"assistant_id": "echo", "input": {"x": "a" * 3000}})
            assert big.status_code == 413
            assert big.json() == {"detail": "Request body too large (limit: 2000 bytes)"}
            r = c.post(
                "/runs/wait",
                json={"assistant_id": "inspect", "input": {"messages": []}},
                headers={"x-request-id": "req-123"},
            )
            assert r.json()["seen"]["configurable"]["langgraph_request_id"] == "req-123"
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "rules",
    [
        {"include": ["x-foo*"], "exclude": ["x-foo-secret"]},  # the reference's older spellings
        {"includes": ["x-foo*"], "exclude": ["x-foo-secret"]},
        {"include": ["x-foo*"], "excludes": ["x-foo-secret"]},
    ],
)
def test_configurable_headers_include_exclude_aliases(
    tmp_path: Path, server: Server, rules: dict[str, list[str]]
) -> None:
    if server.process is None:
        pytest.skip("needs a graphport server with its own http settings")
    config = tmp_path / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "graphs": {"inspect": f"{ROOT}/tests/graphs/graphs.py:inspect"},
                "http": {"configurable_headers": rules},
            }
        )
    )
    srv = start_server(tmp_path, config=config)
    try:
        r = httpx.post(
            srv.url + "/runs/wait",
            json={"assistant_id": "inspect", "input": {"messages": []}},
            headers={"x-foo-bar": "1", "x-foo-secret": "s", "x-other": "o"},
            timeout=30,
        )
    finally:
        srv.stop()
    configurable = r.json()["seen"]["configurable"]
    assert configurable["x-foo-bar"] == "1"
    assert "x-foo-secret" not in configurable and "x-other" not in configurable
