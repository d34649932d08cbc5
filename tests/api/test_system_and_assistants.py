"""System routes, the default assistants, malformed ids in paths, CORS (spec §1.1, §1.2, §1.8,
§3.1, §3.3, §5.4, §6.1; bodies from /work/refcapture/capture.md)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

GRAPHS_JSON = Path(__file__).resolve().parents[1] / "graphs" / "langgraph.json"
GRAPH_IDS: list[str] = list(json.loads(GRAPHS_JSON.read_text())["graphs"])
NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")  # not NAMESPACE_URL (spec §5.4)
ECHO_ID = "046b5dc7-2108-582c-9c6c-31d556d138f0"
NAMED_ID = "ae71b884-b90a-51db-a6ab-678465ec7c20"
DESCRIBED_ID = "ac8f6679-aaec-503b-b282-fc626a679c67"
INSPECT_ID = "ec156a69-ed6a-507b-8e2b-2ebf5f54145e"
UNKNOWN = "00000000-0000-0000-0000-000000000000"
TS_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00"
ASSISTANT_KEYS = [
    "assistant_id", "graph_id", "config", "context", "metadata", "name",
    "created_at", "updated_at", "version", "description",
]  # fmt: skip


def assert_error(resp: httpx.Response, status: int, detail: str) -> None:
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"] == "application/json"
    assert resp.content == json.dumps({"detail": detail}, separators=(",", ":")).encode()


def system_assistant(graph_id: str, name: str | None = None, description: str | None = None):
    return {
        "assistant_id": str(uuid.uuid5(NAMESPACE, graph_id)),
        "graph_id": graph_id,
        "config": {},
        "context": {},
        "metadata": {"created_by": "system"},
        "name": name or graph_id,
        "version": 1,
        "description": description,
    }


def without_times(a: dict[str, Any]) -> dict[str, Any]:
    assert re.fullmatch(TS_RE, a["created_at"]), a["created_at"]
    assert re.fullmatch(TS_RE, a["updated_at"]), a["updated_at"]
    return {k: v for k, v in a.items() if k not in ("created_at", "updated_at")}


def search(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/assistants/search", json=body)


# -------------------------------------------------------------------------------- system


@pytest.mark.parametrize("path", ["/ok", "/", "/ok?check_db=1"])
def test_ok(http: httpx.Client, path: str) -> None:
    r = http.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == b'{"ok":true,"services":{}}'


def test_head_ok(http: httpx.Client) -> None:
    r = http.head("/ok")
    assert r.status_code == 200
    assert r.headers["content-length"] == "25" and r.content == b""


def test_info(http: httpx.Client) -> None:
    r = http.get("/info")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    info = r.json()
    assert isinstance(info["version"], str) and info["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", info["langgraph_py_version"])
    assert info["flags"]["assistants"] is True
    assert info["flags"]["langsmith"] is False
    assert info["host"] == {
        "kind": "self-hosted",
        "project_id": None,
        "host_revision_id": None,
        "revision_id": None,
        "tenant_id": None,
    }


# -------------------------------------------------------------------------------- assistants


def test_echo_default_assistant(http: httpx.Client) -> None:
    r = http.get(f"/assistants/{ECHO_ID}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    a = r.json()
    assert without_times(a) == system_assistant("echo")
    assert a["assistant_id"] == ECHO_ID
    assert a["created_at"] == a["updated_at"]


def test_assistant_fields_are_in_reference_order(http: httpx.Client) -> None:
    # captured: {"assistant_id",…,"name","created_at","updated_at","version","description"}
    assert list(http.get(f"/assistants/{ECHO_ID}").json()) == ASSISTANT_KEYS


def test_named_graph_keeps_its_name(http: httpx.Client) -> None:
    a = http.get(f"/assistants/{NAMED_ID}").json()
    assert without_times(a) == system_assistant("named", name="MyNamedGraph")


def test_description_comes_from_langgraph_json(http: httpx.Client) -> None:
    a = http.get(f"/assistants/{DESCRIBED_ID}").json()
    assert without_times(a) == system_assistant("described", description="An echo graph")


@pytest.mark.parametrize("graph_id", GRAPH_IDS)
def test_every_graph_has_a_uuid5_system_assistant(http: httpx.Client, graph_id: str) -> None:
    r = http.get(f"/assistants/{uuid.uuid5(NAMESPACE, graph_id)}")
    assert r.status_code == 200
    a = r.json()
    assert (a["graph_id"], a["metadata"], a["version"]) == (graph_id, {"created_by": "system"}, 1)


@pytest.mark.parametrize("suffix", ["", "/schemas", "/graph"])
def test_malformed_assistant_id(http: httpx.Client, suffix: str) -> None:
    assert_error(
        http.get(f"/assistants/not-a-uuid{suffix}"), 422, "Invalid assistant ID: must be a UUID"
    )


@pytest.mark.parametrize("suffix", ["", "/schemas"])
def test_unknown_assistant_uuid(http: httpx.Client, suffix: str) -> None:
    assert_error(http.get(f"/assistants/{UNKNOWN}{suffix}"), 404, "Not Found")


def test_graph_id_in_graph_path(http: httpx.Client) -> None:
    # the only /assistants/{aid}… route where the reference maps a graph id (spec §1.2)
    by_id = http.get("/assistants/echo/graph")
    assert by_id.status_code == 200
    assert by_id.json() == http.get(f"/assistants/{ECHO_ID}/graph").json()


@pytest.mark.parametrize("suffix", ["", "/schemas"])
def test_graph_id_in_other_paths(http: httpx.Client, graphport_only: None, suffix: str) -> None:
    # §7 #11: graphport accepts graph ids in every /assistants/{aid} path (reference: 422)
    r = http.get(f"/assistants/echo{suffix}")
    assert r.status_code == 200
    assert r.json() == http.get(f"/assistants/{ECHO_ID}{suffix}").json()


# -------------------------------------------------------------------------------- search


def test_search_by_graph_id(http: httpx.Client) -> None:
    r = search(http, graph_id="echo")
    assert r.status_code == 200
    [a] = r.json()
    assert without_times(a) == system_assistant("echo")
    assert r.headers["x-pagination-total"] == "1"
    assert "x-pagination-next" not in r.headers


def test_search_unknown_graph_id(http: httpx.Client) -> None:
    assert_error(
        search(http, graph_id="nope"),
        404,
        f"Graph 'nope' not found. Expected one of: {sorted(GRAPH_IDS)}",
    )


def test_search_by_metadata(http: httpx.Client) -> None:
    found = search(http, metadata={"created_by": "system"}, limit=1000).json()
    assert sorted(a["graph_id"] for a in found) == sorted(GRAPH_IDS)


def test_search_default_page_is_10_newest_first(http: httpx.Client) -> None:
    everything = search(http, limit=1000).json()
    assert search(http).json() == everything[:10]
    created = [a["created_at"] for a in everything]
    assert created == sorted(created, reverse=True)
    # the reference registers the system assistants one by one in langgraph.json order, each
    # with its own timestamp, so a fresh server lists the last graph first
    system = [a["created_at"] for a in everything if a["metadata"] == {"created_by": "system"}]
    assert len(set(system)) == len(GRAPH_IDS)


def test_search_sort_by_graph_id(http: httpx.Client) -> None:
    found = search(http, sort_by="graph_id", sort_order="asc", limit=1000).json()
    assert [a["graph_id"] for a in found] == sorted(a["graph_id"] for a in found)
    assert {a["graph_id"] for a in found} >= set(GRAPH_IDS)


def test_search_pages(http: httpx.Client) -> None:
    """x-pagination-next = next offset while more rows exist; absent on the last page.

    x-pagination-total differs: the reference sends offset+returned+1 while more rows exist
    (it fetched limit+1 rows), graphport the real total (see test_search_total_is_the_real_count).
    Both satisfy the invariants below, which is all a client can rely on (the SDK reads only
    x-pagination-next).
    """
    everything = search(http, limit=1000).json()
    seen: list[Any] = []
    offset = 0
    while True:
        r = search(http, limit=4, offset=offset)
        page = r.json()
        seen += page
        total = int(r.headers["x-pagination-total"])
        if "x-pagination-next" not in r.headers:
            assert total == offset + len(page)
            break
        assert len(page) == 4
        assert r.headers["x-pagination-next"] == str(offset + 4)
        assert total > offset + 4
        offset += 4
    assert [a["assistant_id"] for a in seen] == [a["assistant_id"] for a in everything]


def test_search_past_the_end(http: httpx.Client) -> None:
    n = len(search(http, limit=1000).json())
    r = search(http, limit=3, offset=n + 5)
    assert r.json() == []
    assert "x-pagination-next" not in r.headers
    # x-pagination-total: reference offset+0 (n+5), graphport the real count (n)
    assert int(r.headers["x-pagination-total"]) in (n, n + 5)


def test_search_total_is_the_real_count(http: httpx.Client, graphport_only: None) -> None:
    # graphport sends the real count; the reference offset+returned+1 (not listed in §7 yet)
    n = len(search(http, limit=1000).json())
    r = search(http, limit=3)
    assert r.headers["x-pagination-total"] == str(n)
    assert r.headers["x-pagination-next"] == "3"


@pytest.mark.parametrize(
    ("limit", "message", "keyword"),
    [
        (0, "0 is less than the minimum of 1", "minimum"),
        (1001, "1001 is greater than the maximum of 1000", "maximum"),
    ],
)
def test_search_limit_bounds(http: httpx.Client, limit: int, message: str, keyword: str) -> None:
    detail = (
        f'{message}\n\nFailed validating "{keyword}" in schema["properties"]["limit"]'
        f'\n\nOn instance["limit"]:\n    {limit}'
    )
    assert_error(search(http, limit=limit), 422, detail)


# -------------------------------------------------------------------------------- graph / schemas

ECHO_GRAPH = {
    "nodes": [
        {"id": "__start__", "type": "runnable", "data": {"name": "__start__"}},
        {"id": "step", "type": "runnable", "data": {"name": "step"}},
        {"id": "__end__"},
    ],
    "edges": [
        {"source": "__start__", "target": "step"},
        {"source": "step", "target": "__end__"},
    ],
}


@pytest.mark.parametrize("query", ["", "?xray=true"])
def test_echo_graph(http: httpx.Client, query: str) -> None:
    r = http.get(f"/assistants/{ECHO_ID}/graph{query}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == ECHO_GRAPH


def test_nested_graph_xray(http: httpx.Client) -> None:
    r = http.get(f"/assistants/{uuid.uuid5(NAMESPACE, 'nested')}/graph?xray=1")
    assert r.json() == {
        "nodes": [
            {"id": "__start__", "type": "runnable", "data": {"name": "__start__"}},
            {"id": "parent_node", "type": "runnable", "data": {"name": "parent_node"}},
            {"id": "__end__"},
            {"id": "child:child_node", "type": "runnable", "data": {"name": "child:child_node"}},
        ],
        "edges": [
            {"source": "__start__", "target": "parent_node"},
            {"source": "parent_node", "target": "child:child_node"},
            {"source": "child:child_node", "target": "__end__"},
        ],
    }


MESSAGES = {"items": {}, "title": "Messages", "type": "array"}
STATE_MESSAGES = {"default": None, "items": {}, "title": "Messages", "type": "array"}
INSPECT_CONTEXT = {
    "properties": {
        "user": {"title": "User", "type": "string"},
        "model": {"title": "Model", "type": "string"},
    },
    "title": "InspectContext",
    "type": "object",
}


def test_echo_schemas(http: httpx.Client) -> None:
    echo_state = {
        "properties": {"messages": MESSAGES, "count": {"title": "Count", "type": "integer"}},
        "title": "EchoState",
        "type": "object",
    }
    r = http.get(f"/assistants/{ECHO_ID}/schemas")
    assert r.status_code == 200
    assert r.json() == {
        "graph_id": "echo",
        "input_schema": echo_state,
        "output_schema": echo_state,
        "state_schema": {
            "properties": {
                "messages": STATE_MESSAGES,
                "count": {"default": None, "title": "Count", "type": "integer"},
            },
            "title": "echo_state",
            "type": "object",
        },
        "config_schema": {},
        "context_schema": None,
    }


def test_inspect_schemas(http: httpx.Client) -> None:
    seen = {"additionalProperties": True, "title": "Seen", "type": "object"}
    inspect_state = {
        "properties": {"messages": MESSAGES, "seen": seen},
        "title": "InspectState",
        "type": "object",
    }
    r = http.get(f"/assistants/{INSPECT_ID}/schemas")
    assert r.status_code == 200
    assert r.json() == {
        "graph_id": "inspect",
        "input_schema": inspect_state,
        "output_schema": inspect_state,
        "state_schema": {
            "properties": {"messages": STATE_MESSAGES, "seen": {**seen, "default": None}},
            "title": "inspect_state",
            "type": "object",
        },
        # the configurable part of the config schema, which mirrors the context schema
        "config_schema": INSPECT_CONTEXT,
        "context_schema": INSPECT_CONTEXT,
    }


# -------------------------------------------------------------------------------- thread/run ids

TID = "01a214c2-c719-7549-a0e4-3485984a4f19"
RID = "01a214c2-c719-7549-a0e4-348495f079e9"


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/threads/not-a-uuid", "Invalid thread ID: must be a UUID"),
        ("/threads/not-a-uuid/state", "Invalid thread ID: must be a UUID"),
        ("/threads/not-a-uuid/runs", "Invalid thread ID: must be a UUID"),
        (f"/threads/not-a-uuid/runs/{RID}", "Invalid thread ID: must be a UUID"),
        (f"/threads/{TID}/runs/not-a-uuid", "Invalid run ID: must be a UUID"),
        ("/threads/not-a-uuid/runs/not-a-uuid", "Invalid thread ID: must be a UUID"),
        (f"/threads/not-a-uuid/runs/{RID}/join", "Invalid thread ID: must be a UUID"),
        (f"/threads/{TID}/runs/not-a-uuid/join", "Invalid run ID: must be a UUID"),
        ("/threads/not-a-uuid/runs/not-a-uuid/join", "Invalid thread ID: must be a UUID"),
    ],
)
def test_malformed_thread_and_run_ids(http: httpx.Client, path: str, detail: str) -> None:
    assert_error(http.get(path), 422, detail)


@pytest.mark.parametrize("suffix", ["", "/state", "/runs", f"/runs/{RID}"])
def test_unknown_thread(http: httpx.Client, suffix: str) -> None:
    assert_error(
        http.get(f"/threads/{UNKNOWN}{suffix}"), 404, f"Thread with ID {UNKNOWN} not found"
    )


# -------------------------------------------------------------------------------- CORS

ORIGIN = {"origin": "http://example.com"}
PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers,"
    " Access-Control-Request-Private-Network"
)
ALLOW_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"


def test_preflight(http: httpx.Client) -> None:
    r = http.options(
        "/runs/wait",
        headers={
            **ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-foo",
        },
    )
    assert r.status_code == 200
    assert r.content == b"OK"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == ALLOW_METHODS
    assert r.headers["access-control-allow-headers"] == "content-type,x-foo"
    assert r.headers["access-control-max-age"] == "600"
    assert r.headers["vary"] == PREFLIGHT_VARY
    assert r.headers["access-control-allow-private-network"] == "true"
    assert "access-control-allow-credentials" not in r.headers


def test_private_network_preflight_is_allowed(http: httpx.Client, graphport_only: None) -> None:
    """The reference answers 400 `Disallowed CORS private-network` while also sending
    `access-control-allow-private-network: true`; graphport allows what the header promises."""
    r = http.options(
        "/runs/wait",
        headers={
            **ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-private-network": "true",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-private-network"] == "true"


@pytest.mark.parametrize(
    ("extra", "body"),
    [
        ({"access-control-request-method": "FOO"}, b"Disallowed CORS method"),
    ],
    ids=["bad-method"],
)
def test_rejected_preflight(http: httpx.Client, extra: dict[str, str], body: bytes) -> None:
    r = http.options("/runs/wait", headers={**ORIGIN, **extra})
    assert r.status_code == 400
    assert r.content == body
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["vary"] == PREFLIGHT_VARY
    assert r.headers["access-control-allow-private-network"] == "true"


def test_options_without_preflight_headers(http: httpx.Client) -> None:
    r = http.options("/runs/wait")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.headers["access-control-allow-private-network"] == "true"
    assert r.content == b'{"detail":"Method Not Allowed"}'


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/ok", None, 200),
        ("GET", "/info", None, 200),
        ("POST", "/runs/wait", {"assistant_id": "echo", "input": {"messages": ["x"]}}, 200),
        ("POST", "/runs/wait", {"input": {}}, 422),
        ("GET", "/nope", None, 404),
    ],
)
def test_simple_request_with_origin(
    http: httpx.Client, method: str, path: str, body: Any, status: int
) -> None:
    r = http.request(method, path, json=body, headers=ORIGIN)
    assert r.status_code == status
    assert r.headers["access-control-allow-origin"] == "*"
    assert (
        r.headers["access-control-expose-headers"]
        == "x-pagination-total, x-pagination-next, content-location"
    )
    assert r.headers["vary"] == "Origin"
    assert "access-control-allow-private-network" not in r.headers


def test_no_cors_headers_without_origin(http: httpx.Client) -> None:
    r = http.get("/ok")
    assert r.headers["vary"] == "Origin"
    assert not [h for h in r.headers if h.startswith("access-control-")]
