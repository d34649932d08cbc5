"""GET /openapi.json: a valid OpenAPI 3.1 document of the routes served, a FastAPI app's merged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from openapi_spec_validator import validate

from tests.api.test_http_app import GRAPHS, own_server, serve_app
from tests.conftest import Server

__all__ = ["own_server"]


def test_openapi_document_is_valid_and_lists_the_routes(http: httpx.Client, server: Server) -> None:
    spec = http.get("/openapi.json").json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    wait = spec["paths"]["/runs/wait"]["post"]
    schema = wait["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RunCreateStateless"}
    assert "assistant_id" in spec["components"]["schemas"]["RunCreateStateless"]["properties"]
    assert "get" in spec["paths"]["/threads/{thread_id}"]


def test_fastapi_routes_merged_and_disabled_routes_left_out(
    tmp_path: Path, own_server: None
) -> None:
    srv = serve_app(
        tmp_path,
        {"app": f"{GRAPHS}/webapps.py:fastapi_app", "mount_prefix": "/p", "disable_store": True},
    )
    try:
        spec = httpx.get(srv.url + "/p/openapi.json", timeout=30).json()
    finally:
        srv.stop()
    validate(spec)
    assert "Order" in spec["components"]["schemas"]
    assert "requestBody" in spec["paths"]["/p/orders"]["post"]
    assert "/p/runs/wait" in spec["paths"]
    assert not any("/store/" in path for path in spec["paths"])


def test_docs_page_and_its_assets_are_served_locally(http: httpx.Client, server: Server) -> None:
    if server.process is None:
        pytest.skip("graphport's own explorer page")
    page = http.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    js = http.get("/docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert http.get("/docs/swagger-ui.css").status_code == 200
    assert http.get("/docs/LICENSE").status_code == 404


def _answer_schema(spec: dict[str, Any], method: str, path: str, status: int) -> Any:
    """A validator of the documented answer of `method path` with `status` (which must be the
    operation's documented success status)."""
    responses = spec["paths"][path][method]["responses"]
    successes = [code for code in responses if code.startswith("2")]
    assert successes == [str(status)], (method, path, successes, status)
    if status == 204:
        assert "content" not in responses["204"]
        return None
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


def test_answers_match_their_documented_schemas(http: httpx.Client, graphport_only: None) -> None:
    """Real answers of every JSON route kind, validated against the schemas /openapi.json gives
    them: a serialiser that drifts from its description fails here."""
    spec = http.get("/openapi.json").json()
    checked: list[str] = []

    def check(method: str, template: str, path: str | None = None, **kwargs: Any) -> Any:
        answer = http.request(method, path or template, **kwargs)
        assert answer.status_code < 300, (method, path, answer.text)
        validator = _answer_schema(spec, method.lower(), template, answer.status_code)
        if validator is not None:
            errors = [str(e) for e in validator.iter_errors(answer.json())]
            assert not errors, (method, template, errors, answer.json())
        checked.append(f"{method} {template}")
        return answer.json() if answer.status_code != 204 else None

    assistant = check("POST", "/assistants", json={"graph_id": "nested", "name": "doc"})
    aid = assistant["assistant_id"]
    a = f"/assistants/{aid}"
    check("GET", "/assistants/{assistant_id}", a)
    check("PATCH", "/assistants/{assistant_id}", a, json={"metadata": {"k": 1}})
    check("POST", "/assistants/search", json={"limit": 3})
    check("POST", "/assistants/count", json={})
    check("POST", "/assistants/{assistant_id}/versions", f"{a}/versions", json={})
    check("POST", "/assistants/{assistant_id}/latest", f"{a}/latest", json={"version": 1})
    check("GET", "/assistants/{assistant_id}/graph", f"{a}/graph?xray=true")
    check("GET", "/assistants/{assistant_id}/schemas", f"{a}/schemas")
    check("GET", "/assistants/{assistant_id}/subgraphs", f"{a}/subgraphs?recurse=true")

    thread = check("POST", "/threads", json={"metadata": {"doc": 1}})
    t = f"/threads/{thread['thread_id']}"
    check("POST", "/threads/{thread_id}/runs/wait", f"{t}/runs/wait",
          json={"assistant_id": "hitl", "input": {"messages": ["hi"]}})  # fmt: skip
    check("GET", "/threads/{thread_id}", t)  # interrupted: with its interrupts
    check("GET", "/threads/{thread_id}/state", t + "/state?subgraphs=true")
    history = check("GET", "/threads/{thread_id}/history", f"{t}/history?limit=5")
    check("POST", "/threads/{thread_id}/history", f"{t}/history", json={"limit": 2})
    checkpoint = history[-1]["checkpoint"]
    check("POST", "/threads/{thread_id}/state/checkpoint", f"{t}/state/checkpoint",
          json={"checkpoint": checkpoint})  # fmt: skip
    check("GET", "/threads/{thread_id}/state/{checkpoint_id}",
          f"{t}/state/{checkpoint['checkpoint_id']}")  # fmt: skip
    run = check("POST", "/threads/{thread_id}/runs", f"{t}/runs",
                json={"assistant_id": "hitl", "command": {"resume": "yes"}})  # fmt: skip
    r = f"{t}/runs/{run['run_id']}"
    http.get(f"{r}/join")
    check("GET", "/threads/{thread_id}/runs/{run_id}", r)
    check("GET", "/threads/{thread_id}/runs", f"{t}/runs?limit=5&status=success")
    check("POST", "/threads/{thread_id}/state", f"{t}/state", json={"values": {"messages": ["x"]}})
    check("PATCH", "/threads/{thread_id}", t, json={"metadata": {"doc": 2}})
    check("POST", "/threads/search", json={"metadata": {"doc": 2}})
    check("POST", "/threads/count", json={})
    copy = check("POST", "/threads/{thread_id}/copy", f"{t}/copy")
    check("POST", "/threads/prune", json={"thread_ids": [copy["thread_id"]]})
    check("GET", "/runs/{run_id}/feedback", f"/runs/{run['run_id']}/feedback")
    check("POST", "/runs", json={"assistant_id": "echo", "input": {}})
    check("POST", "/runs/batch", json=[{"assistant_id": "echo", "input": {}}])

    cron = check("POST", "/runs/crons", json={"assistant_id": "echo", "schedule": "0 0 * * *"})
    c = f"/runs/crons/{cron['cron_id']}"
    check("GET", "/runs/crons/{cron_id}", c)
    check("PATCH", "/runs/crons/{cron_id}", c, json={"enabled": False})
    check("POST", "/runs/crons/search", json={})
    check("POST", "/runs/crons/count", json={})
    check("POST", "/threads/{thread_id}/runs/crons", f"{t}/runs/crons",
          json={"assistant_id": "echo", "schedule": "0 0 * * *"})  # fmt: skip
    check("DELETE", "/runs/crons/{cron_id}", c)

    item = {"namespace": ["doc"], "key": "k", "value": {"v": 1}}
    check("PUT", "/store/items", json=item)
    check("GET", "/store/items", "/store/items?namespace=doc&key=k")
    check("POST", "/store/items/search", json={"namespace_prefix": ["doc"]})
    check("POST", "/store/namespaces", json={})
    check("DELETE", "/store/items", json={"namespace": ["doc"], "key": "k"})
    check("GET", "/ok", "/ok?check_db=1")
    check("GET", "/info")
    check("DELETE", "/threads/{thread_id}", t)
    check("DELETE", "/assistants/{assistant_id}", a)
    assert len(checked) == 46


def test_query_parameters_and_bodies_described(http: httpx.Client, graphport_only: None) -> None:
    spec = http.get("/openapi.json").json()
    validate(spec)

    def parameters(method: str, path: str) -> set[str]:
        return {p["name"] for p in spec["paths"][path][method].get("parameters", [])}

    assert {"limit", "offset", "status", "select"} <= parameters("get", "/threads/{thread_id}/runs")
    assert {"namespace", "key", "refresh_ttl"} <= parameters("get", "/store/items")
    assert {"limit", "before"} <= parameters("get", "/threads/{thread_id}/history")
    assert "limit" not in parameters("post", "/threads/{thread_id}/history")  # a body there
    assert {"cancel_on_disconnect", "stream_mode", "Last-Event-ID"} <= parameters(
        "get", "/threads/{thread_id}/runs/{run_id}/stream"
    )
    assert parameters("get", "/ok") == {"check_db"}
    # every body a JSON route takes is described, by a schema the document holds
    bodiless = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"], (method, path)
            elif method in ("post", "put", "patch"):
                bodiless.add(path)
    assert bodiless == {"/threads/{thread_id}/copy", "/threads/{thread_id}/runs/{run_id}/cancel"}
    stream = spec["paths"]["/runs/stream"]["post"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]
    assert {t["name"] for t in spec["tags"]} >= {
        "Assistants", "Threads", "Thread Runs", "Stateless Runs", "Crons", "Store", "A2A",
        "MCP", "System"}  # fmt: skip
