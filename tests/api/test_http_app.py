"""`http.app`: a custom Starlette or FastAPI app served beside the API (routes, middleware on
the built-in routes, lifespan, `mount_prefix`, `middleware_order`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import ROOT, Server, start_server

GRAPHS = ROOT / "tests" / "graphs"
APP = f"{GRAPHS}/webapps.py:starlette_app"
GREETING = "hello from the lifespan"  # what webapps.lifespan yields


def serve_app(tmp: Path, http: dict[str, Any]) -> Server:
    config = tmp / "langgraph.json"
    graphs = {"echo": f"{GRAPHS}/graphs.py:echo", "boom": f"{GRAPHS}/graphs.py:boom"}
    config.write_bytes(orjson.dumps({"graphs": graphs, "http": http}))
    return start_server(tmp, config=config, extra_env={"WEBAPP_EVENTS": str(tmp / "events")})


@pytest.fixture
def own_server(server: Server) -> None:
    if server.process is None:
        pytest.skip("starts graphport servers with their own langgraph.json")


@pytest.fixture
def starlette_server(tmp_path: Path, own_server: None) -> Iterator[Server]:
    srv = serve_app(tmp_path, {"app": f"{GRAPHS}/webapps.py:starlette_app"})
    yield srv
    srv.stop()


def test_starlette_routes_replace_and_add(starlette_server: Server) -> None:
    with httpx.Client(base_url=starlette_server.url, timeout=30) as c:
        assert c.get("/").json() == {"home": "custom"}  # replaces the built-in GET /
        assert c.get("/ok").json() == {"ok": True, "services": {}}  # cannot be replaced
        assert c.get("/info").json()["graphport_version"]  # not in the app: built-in
        r = c.get("/custom/greet")
        assert r.json() == {"greeting": "hello from the lifespan", "path": "/custom/greet"}
        assert r.headers["x-webapp"] == "starlette"


def test_middleware_wraps_builtin_routes_errors_and_streams(starlette_server: Server) -> None:
    with httpx.Client(base_url=starlette_server.url, timeout=30) as c:
        wait = c.post("/runs/wait", json={"assistant_id": "echo", "input": {"messages": ["a"]}})
        assert wait.status_code == 200 and wait.headers["x-webapp"] == "starlette"
        with c.stream(
            "POST", "/runs/stream", json={"assistant_id": "echo", "input": {"messages": []}}
        ) as stream:
            body = b"".join(stream.iter_bytes())
            assert stream.headers["x-webapp"] == "starlette"
        assert b"event: values" in body
        missing = c.get("/threads/00000000-0000-0000-0000-000000000000")
        assert missing.status_code == 404 and missing.headers["x-webapp"] == "starlette"
        assert c.get("/no/such/path").headers["x-webapp"] == "starlette"
        bad = c.post("/runs/wait", json={"input": {}})
        assert bad.status_code == 422 and bad.headers["x-webapp"] == "starlette"
        broken = c.get("/custom/broken")
        assert broken.status_code == 500
        assert broken.json() == {"detail": "Internal Server Error"}
        assert broken.headers["x-webapp"] == "starlette"
        failed = c.post("/runs/wait", json={"assistant_id": "boom", "input": {}})
        assert failed.headers["x-webapp"] == "starlette"
        preflight = c.options(
            "/threads",
            headers={"origin": "https://x.example", "access-control-request-method": "POST"},
        )
        assert preflight.headers["x-webapp"] == "starlette"


def test_lifespan_runs_once_at_start_and_stop(tmp_path: Path, own_server: None) -> None:
    srv = serve_app(tmp_path, {"app": f"{GRAPHS}/webapps.py:starlette_app"})
    events = tmp_path / "events"
    try:
        assert events.read_text().split() == ["start"]
        httpx.get(srv.url + "/custom/greet", timeout=30)
    finally:
        srv.stop()
    assert events.read_text().split() == ["start", "stop"]


def test_fastapi_app_under_a_mount_prefix(tmp_path: Path, own_server: None) -> None:
    srv = serve_app(
        tmp_path, {"app": f"{GRAPHS}/webapps.py:fastapi_app", "mount_prefix": "/my/api"}
    )
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post("/my/api/orders", json={"item": "tea", "quantity": 2})
            assert r.json() == {"item": "tea", "quantity": 2, "greeting": "hello from the lifespan"}
            assert r.headers["x-webapp"] == "fastapi"
            assert c.post("/my/api/orders", json={"quantity": 2}).status_code == 422
            assert c.get("/my/api/info").json() == {"info": "custom"}
            assert c.post("/orders", json={"item": "tea"}).status_code == 404
            assert c.get("/ok").status_code == 200 and c.get("/my/api/ok").status_code == 200
            thread = c.post("/my/api/threads", json={})
            assert thread.status_code == 200 and thread.headers["x-webapp"] == "fastapi"
            assert c.post("/threads", json={}).status_code == 404
    finally:
        srv.stop()
    assert (tmp_path / "events").read_text().split() == ["start", "stop"]


def test_middleware_order_auth_first_puts_the_middleware_inside(
    tmp_path: Path, own_server: None
) -> None:
    srv = serve_app(
        tmp_path,
        {"app": f"{GRAPHS}/webapps.py:starlette_app", "middleware_order": "auth_first"},
    )
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert c.get("/info").headers["x-webapp"] == "starlette"  # around each route
            assert c.get("/custom/greet").headers["x-webapp"] == "starlette"
            preflight = c.options(
                "/threads",
                headers={"origin": "https://x.example", "access-control-request-method": "POST"},
            )  # answered by CORS, outside the app's middleware
            assert preflight.status_code == 200 and "x-webapp" not in preflight.headers
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("http", "message"),
    [
        ({"app": "./nowhere.py:app"}, "Could not find graph file"),
        ({"app": f"{GRAPHS}/webapps.py:missing"}, "variable 'missing' not found"),
        ({"app": f"{GRAPHS}/graphs.py:echo"}, "not a Starlette or FastAPI app"),
        ({"app": APP, "middleware_order": "x"}, "must be one"),
        ({"app": APP, "enable_custom_route_auth": True}, "no authentication is configured"),
    ],
)
def test_a_bad_app_stops_the_start(
    tmp_path: Path, own_server: None, http: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuntimeError, match=message):
        serve_app(tmp_path, http)


def test_lifespan_state_reaches_the_builtin_routes(tmp_path: Path, own_server: None) -> None:
    """What the app's lifespan yields is in `request.state` on the API's routes too: its
    middleware and the `auth` handler read it there (the reference drops it)."""
    config = tmp_path / "langgraph.json"
    config.write_bytes(
        orjson.dumps(
            {
                "graphs": {"inspect": f"{GRAPHS}/graphs.py:inspect"},
                "auth": {"path": f"{GRAPHS}/webapps.py:state_auth"},
                "http": {"app": APP},
            }
        )
    )
    srv = start_server(tmp_path, config=config)
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post("/runs/wait", json={"assistant_id": "inspect", "input": {"messages": []}})
            assert r.status_code == 200, r.text
            assert r.json()["seen"]["configurable"]["langgraph_auth_user_id"] == GREETING
            assert r.headers["x-webapp-greeting"] == GREETING
            info = c.get("/info")
            assert (
                info.json()["graphport_version"] and info.headers["x-webapp-greeting"] == GREETING
            )
            threads = c.post("/threads/search", json={})
            assert threads.status_code == 200 and threads.headers["x-webapp-greeting"] == GREETING
            assert c.get("/custom/greet").json()["greeting"] == GREETING
    finally:
        srv.stop()
