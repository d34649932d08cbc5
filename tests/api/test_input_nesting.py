"""Deeply nested bodies: accepted up to what a run can store, refused with a 422 beyond it, on
every parser (REST bodies, JSON-RPC for MCP and A2A, protocol commands), with nothing stored
and the keep-alive connection still usable."""

from __future__ import annotations

import httpx

from graphport.api.bodies import MAX_NESTING, TOO_DEEP

MCP_HEADERS = {"accept": "application/json, text/event-stream"}


def nested(levels: int) -> str:
    """A JSON object nested `levels` deep: {"a":{"a":...{"a":"x"}}}."""
    return '{"a":' * levels + '"x"' + "}" * levels


def run_body(levels: int) -> str:
    """A stateless echo run whose whole body is nested `levels` deep (body → input → value)."""
    return '{"assistant_id":"echo","input":{"value":' + nested(levels - 2) + "}}"


def test_a_body_at_the_limit_runs(http: httpx.Client) -> None:
    """A body exactly MAX_NESTING levels deep is stored and run."""
    resp = http.post("/runs/wait", content=run_body(MAX_NESTING))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"messages": ["hi"], "count": 1}


def test_a_deeper_body_is_a_422_and_the_connection_keeps_serving(http: httpx.Client) -> None:
    """One level deeper, and far deeper (orjson's own recursion limit), answer 422 with the
    limit named; the same connection answers the next request."""
    for levels in (MAX_NESTING + 1, 600, 5000):
        resp = http.post("/runs/wait", content=run_body(levels))
        assert resp.status_code == 422, (levels, resp.text[:200])
        assert resp.json() == {"detail": TOO_DEEP}
    assert http.get("/ok").status_code == 200


def test_a_refused_run_on_a_thread_stores_nothing(http: httpx.Client) -> None:
    """A too-deep run body on a thread leaves the thread without runs and idle."""
    thread_id = http.post("/threads", json={}).json()["thread_id"]
    resp = http.post(f"/threads/{thread_id}/runs", content=run_body(MAX_NESTING + 1))
    assert resp.status_code == 422
    assert http.get(f"/threads/{thread_id}/runs").json() == []
    assert http.get(f"/threads/{thread_id}").json()["status"] == "idle"


def test_other_routes_refuse_too_deep_bodies(http: httpx.Client) -> None:
    """Threads, store and protocol commands use the same limit."""
    deep = nested(MAX_NESTING)
    assert http.post("/threads", content='{"metadata":' + deep + "}").status_code == 422
    store = '{"namespace":["n"],"key":"k","value":' + deep + "}"
    assert http.put("/store/items", content=store).status_code == 422
    thread_id = http.post("/threads", json={}).json()["thread_id"]
    resp = http.post(f"/threads/{thread_id}/commands", content='{"x":' + deep + "}")
    assert resp.status_code == 422
    assert resp.json() == {"detail": TOO_DEEP}


def test_json_rpc_refuses_too_deep_messages(http: httpx.Client) -> None:
    """MCP answers a too-deep message with a JSON-RPC invalid-request error naming the limit."""
    message = '{"jsonrpc":"2.0","id":1,"method":"ping","params":' + nested(MAX_NESTING) + "}"
    resp = http.post("/mcp", content=message, headers=MCP_HEADERS)
    error = resp.json()["error"]
    assert error["code"] == -32600
    assert TOO_DEEP in error["message"]
