"""A property-based fuzzer over every route of graphport's OpenAPI document (issue 11.3).

For each operation, hypothesis builds requests with abused path parameters (not a UUID, 10 000
characters, NUL, `../`, real IDs), query parameters (negative or enormous limits, bogus sort
keys, garbage), headers (wrong content types, large values, garbage `Last-Event-ID`) and bodies
(broken JSON, invalid UTF-8, odd types, the fields of the API's bodies with wrong values). Every
answer must be a 2xx/3xx, or a 4xx with a JSON `{"detail": ...}` (the few routes listed at
OWN_ERROR_FORMAT answer their protocol's error instead), never a 5xx, a hang or a dropped
connection; and a refused request must leave the seeded thread, assistant, store item and their
runs as they were.

It runs on the suite's backend (SQLite, and PostgreSQL in the second pass of `make test`).
GRAPHPORT_TEST_FUZZ_EXAMPLES sets the examples per operation (default 25); the examples are
derandomized so that CI sees the same ones, unless GRAPHPORT_TEST_FUZZ_RANDOM is set.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Server, start_server, wait_until

EXAMPLES = int(os.environ.get("GRAPHPORT_TEST_FUZZ_EXAMPLES", "25"))
RANDOM = bool(os.environ.get("GRAPHPORT_TEST_FUZZ_RANDOM"))
MUTATING = {"post", "put", "patch", "delete"}
# Routes whose errors have their protocol's own format instead of {"detail"}: JSON-RPC errors on
# /mcp and /a2a, the thread protocol's {"type": "error", "error", "message"} on its commands, and
# GET /store/items without a key, which answers the reference's {"error": "Key is required"}.
OWN_ERROR_FORMAT = re.compile(r"^/(mcp|a2a/|threads/[^/]+/commands$|store/items$)")

NASTY_SEGMENTS = [
    "not-a-uuid",
    "x" * 10_000,
    "\x00",
    "../../etc/passwd",
    "..",
    "%",
    "00000000-0000-0000-0000-000000000000",
    "-1",
    "😀\u202e",
    " ",
    "echo",
    "null",
]
NASTY_VALUES = [
    "-1",
    "0",
    "1" + "0" * 30,
    "abc",
    "",
    "null",
    "[]",
    "{}",
    "true",
    "\x00",
    "x" * 5_000,
    "created_at; DROP TABLE runs",
    "1e400",
    "NaN",
]
QUERY_NAMES = [
    "limit", "offset", "sort_by", "sort_order", "select", "status", "stream_mode", "namespace",
    "prefix", "key", "refresh_ttl", "cancel_on_disconnect", "wait", "action", "subgraphs",
    "recurse", "xray", "checkpoint_ns", "metadata", "before", "run_ids", "version", "include",
    "stream_resumable", "random",
]  # fmt: skip
BODY_FIELDS = [
    "assistant_id", "graph_id", "thread_id", "run_id", "input", "command", "config", "context",
    "metadata", "stream_mode", "stream_subgraphs", "stream_resumable", "on_disconnect",
    "on_completion", "if_not_exists", "multitask_strategy", "after_seconds", "webhook",
    "interrupt_before", "interrupt_after", "checkpoint", "checkpoint_id", "durability",
    "feedback_keys", "limit", "offset", "sort_by", "sort_order", "select", "status", "values",
    "ids", "ttl", "schedule", "end_time", "enabled", "namespace", "namespace_prefix", "key",
    "value", "index", "query", "filter", "max_depth", "suffix", "as_node", "supersteps",
    "name", "description", "version", "run_ids", "thread_ids", "strategy", "keep_latest",
    "jsonrpc", "method", "params", "id", "command_id", "channels", "since",
]  # fmt: skip
# Header values are valid HTTP (no control characters): a malformed request never reaches the
# application, and uvicorn answers it with its own plain-text 400.
CONTENT_TYPES: list[str | bytes] = [
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
    b"garbage/\xff",  # obs-text: valid HTTP, not ASCII
]


@dataclass
class Seeds:
    thread_id: str
    assistant_id: str
    run_id: str


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Seeds]]:
    server = start_server(tmp_path_factory.mktemp("fuzz"))
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={"metadata": {"seed": True}}).json()["thread_id"]
        assistant = http.post("/assistants", json={"graph_id": "echo", "name": "seed"}).json()
        run = http.post(
            f"/threads/{thread}/runs/wait",
            json={"assistant_id": "echo", "input": {"messages": ["seed"]}},
        )
        run_id = run.headers["content-location"].rsplit("/", 1)[1]
        http.put("/store/items", json={"namespace": ["seed"], "key": "k", "value": {"v": 1}})
    yield server, Seeds(thread, assistant["assistant_id"], run_id)
    server.stop()


FAMILIES = [
    "Assistants",
    "Threads",
    "Thread Runs",
    "Stateless Runs",
    "Crons",
    "Store",
    "A2A",
    "MCP",
]


def _operations(server: Server, family: str) -> list[tuple[str, str]]:
    """(method, path) of the family's operations in the server's OpenAPI document; "other"
    is every operation outside the named families (system, docs, UI, feedback, ...)."""
    paths = httpx.get(server.url + "/openapi.json").json()["paths"]
    found = []
    for path, item in paths.items():
        for method, operation in item.items():
            tag = (operation.get("tags") or ["other"])[0]
            if tag == family or (family == "other" and tag not in FAMILIES):
                found.append((method, path))
    return found


def _segment(seeds: Seeds) -> st.SearchStrategy[str]:
    real = [seeds.thread_id, seeds.assistant_id, seeds.run_id, "echo"]
    return st.one_of(
        st.sampled_from(NASTY_SEGMENTS + real), st.text(max_size=40).filter(lambda s: s != "")
    )


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


def _body(seeds: Seeds) -> st.SearchStrategy[bytes | None]:
    ids = st.sampled_from([seeds.thread_id, seeds.assistant_id, seeds.run_id, "echo"])
    field_value = st.one_of(_JSON, ids, st.sampled_from(NASTY_VALUES))
    fields = st.dictionaries(st.sampled_from(BODY_FIELDS), field_value, max_size=6)
    as_json = st.one_of(fields, _JSON).map(lambda v: json.dumps(v).encode())  # big ints too
    raw = st.one_of(
        st.sampled_from([b"", b"{", b"null", b"[]", b'"x"', b"\xff\xfe", b"{" * 5000, b"1" * 3000]),
        st.binary(max_size=64),
    )
    return st.one_of(st.none(), as_json, raw)


def _headers() -> st.SearchStrategy[dict[str, str | bytes]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "content-type": st.sampled_from(CONTENT_TYPES),
            "last-event-id": st.sampled_from(["-1", "abc", "1-2-3", "0-0", "9" * 40, b"\xff\xfe"]),
            "accept": st.sampled_from(["*/*", "text/event-stream", "application/xml", b"\xfe"]),
            "x-huge": st.just("h" * 8_000),
            "authorization": st.sampled_from(["Bearer", "Basic !!!", "x" * 2000]),
            "mcp-session-id": st.sampled_from(["nope", "x" * 500]),
        },
    )


def _snapshot(http: httpx.Client, seeds: Seeds) -> list[Any]:
    """What a refused request must not change: the seeded resources, once nothing runs."""

    def settled() -> bool:
        runs = http.get(f"/threads/{seeds.thread_id}/runs").json()
        return not isinstance(runs, list) or all(
            r["status"] not in ("pending", "running") for r in runs
        )

    wait_until(settled, what="the seeded thread's runs ended")
    reads = [
        f"/threads/{seeds.thread_id}",
        f"/threads/{seeds.thread_id}/runs",
        f"/threads/{seeds.thread_id}/state",
        f"/assistants/{seeds.assistant_id}",
        "/store/items?namespace=seed&key=k",
    ]
    snapshot: list[Any] = []
    for path in reads:
        r = http.get(path)
        snapshot.append((path, r.status_code, r.content))
    r = http.post("/assistants/count", json={})
    snapshot.append(("assistants", r.status_code, r.content))
    return snapshot


def _check(method: str, path: str, resp: httpx.Response) -> None:
    where = f"{method.upper()} {path[:200]} -> {resp.status_code}"
    assert resp.status_code < 500, f"{where}: {resp.text[:500]}"
    if resp.status_code < 400:
        return
    try:
        body = orjson.loads(resp.read())
    except orjson.JSONDecodeError:
        raise AssertionError(f"{where}: not JSON: {resp.text[:300]!r}") from None
    assert isinstance(body, dict), f"{where}: {body!r}"[:500]
    if OWN_ERROR_FORMAT.match(path) and "error" in body:
        return
    assert "detail" in body, f"{where}: {body!r}"[:500]


@pytest.mark.parametrize("family", [*FAMILIES, "other"])
def test_no_request_takes_a_route_down(fuzzed: tuple[Server, Seeds], family: str) -> None:
    server, seeds = fuzzed
    operations = _operations(server, family)
    assert operations, f"no operation tagged {family}"
    for method, template in operations:
        _fuzz(server, seeds, method, template)
    assert server.process is None or server.process.poll() is None, server.log()[-4000:]


def _fuzz(server: Server, seeds: Seeds, method: str, template: str) -> None:
    params = re.findall(r"{(\w+)}", template)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        segments=st.fixed_dictionaries({p: _segment(seeds) for p in params}),
        query=st.dictionaries(
            st.sampled_from(QUERY_NAMES),
            st.one_of(st.sampled_from(NASTY_VALUES), st.text(max_size=30)),
            max_size=4,
        ),
        headers=_headers(),
        body=_body(seeds) if method in MUTATING else st.none(),
    )
    def probe(
        segments: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str | bytes],
        body: bytes | None,
    ) -> None:
        path = template
        for name, value in segments.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        with httpx.Client(base_url=server.url, timeout=60) as http:
            before = _snapshot(http, seeds) if method in MUTATING else None
            request = http.build_request(
                method.upper(), path, params=query, headers=headers, content=body
            )
            resp = http.send(request, stream=True)
            try:
                streaming = "event-stream" in resp.headers.get("content-type", "")
                if not (resp.status_code < 300 and streaming):  # a live stream: status is enough
                    resp.read()
                    _check(method, path, resp)
            finally:
                resp.close()
            if before is not None and 400 <= resp.status_code < 500:
                after = _snapshot(http, seeds)
                assert after == before, f"{method.upper()} {path[:200]} changed stored data"

    probe()
