"""The Assistants API (spec §1.2, §5.4, §6.1): create, search, count, get, update, delete,
versions, latest, graph/schemas/subgraphs. Details and bodies as the reference answers them
(langgraph-api 0.16.7, captured); tests marked `graphport_only` pin deliberate fixes.

The session server is shared with the other files: assistants made here are deleted again, user
assistants are never made for `echo` (whose search count other tests pin), and a default
assistant is changed only where it is put back, or on a server of the test's own.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError

from tests.conftest import GRAPHS_CONFIG, ROOT, Server, start_server

GRAPH_IDS: list[str] = list(json.loads(GRAPHS_CONFIG.read_text())["graphs"])
NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
UNKNOWN = "00000000-0000-0000-0000-000000000000"
TS_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00"
ASSISTANT_KEYS = [
    "assistant_id", "graph_id", "config", "context", "metadata", "name", "created_at",
    "updated_at", "version", "description",
]  # fmt: skip
VERSION_KEYS = [
    "assistant_id", "version", "graph_id", "config", "context", "metadata", "created_at",
    "name", "description",
]  # fmt: skip
BOTH = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was "
    "introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)
NOT_UUID = "Invalid assistant ID: must be a UUID"
NUL_PATTERN = '"^(?!.*\\\\[uU]0000)[^\\u0000]*$"'


def graph_not_found(graph_id: str) -> str:
    return f"Graph '{graph_id}' not found. Expected one of: {sorted(GRAPH_IDS)}"


def system_id(graph_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, graph_id))


def assert_error(resp: httpx.Response, status: int, detail: str) -> None:
    """Exact status, JSON content type and `{"detail": ...}` bytes."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"] == "application/json"
    expected = json.dumps({"detail": detail}, separators=(",", ":"), ensure_ascii=False)
    assert resp.content == expected.encode()


def schema_error(message: str, keyword: str, schema_path: str, at: str, instance: str) -> str:
    """A jsonschema-rs message as the reference sends it (root-level body schemas)."""
    return (
        f'{message}\n\nFailed validating "{keyword}" in schema{schema_path}'
        f"\n\nOn instance{at}:\n    {instance}"
    )


def type_error(field: str, instance: str, wanted: str) -> str:
    path = f'["properties"]["{field}"]'
    return schema_error(
        f'{instance} is not of type "{wanted}"', "type", path, f'["{field}"]', instance
    )


@pytest.fixture
def make(http: httpx.Client) -> Iterator[Callable[..., dict[str, Any]]]:
    """Create assistants through the API; each is deleted after the test."""
    made: list[str] = []

    def create(**body: Any) -> dict[str, Any]:
        r = http.post("/assistants", json={"graph_id": "inspect", **body})
        assert r.status_code == 200, r.text
        made.append(r.json()["assistant_id"])
        return r.json()  # type: ignore[no-any-return]

    yield create
    for aid in made:
        http.delete(f"/assistants/{aid}")


@pytest.fixture
def tag() -> str:
    """A metadata value no other test uses, to find this test's assistants."""
    return uuid.uuid4().hex


def wait(http: httpx.Client, assistant_id: str, **body: Any) -> Any:
    r = http.post("/runs/wait", json={"assistant_id": assistant_id, "input": {}, **body})
    assert r.status_code == 200, r.text
    return r.json()


# -------------------------------------------------------------------------------- create


def test_create_minimal(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    a = make(graph_id="router")
    assert list(a) == ASSISTANT_KEYS
    assert uuid.UUID(a["assistant_id"]).version == 4  # the reference's uuid4
    assert re.fullmatch(TS_RE, a["created_at"]) and a["created_at"] == a["updated_at"]
    assert {
        k: v for k, v in a.items() if k not in ("assistant_id", "created_at", "updated_at")
    } == {
        "graph_id": "router",
        "config": {},
        "context": {},
        "metadata": {},
        "name": "Untitled",
        "version": 1,
        "description": None,
    }
    r = http.get(f"/assistants/{a['assistant_id']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == a


def test_create_mirrors_configurable_into_context(make: Callable[..., dict[str, Any]]) -> None:
    # capture 107
    config = {
        "tags": ["atag"],
        "recursion_limit": 7,
        "configurable": {"user": "from-assistant", "model": "m-asst", "extra": "asst-only"},
    }
    a = make(config=config, metadata={"shared": "asst"}, name="inspect-asst")
    assert (a["config"], a["context"]) == (config, config["configurable"])
    assert (a["metadata"], a["name"], a["description"]) == (
        {"shared": "asst"},
        "inspect-asst",
        None,
    )


def test_create_mirrors_context_into_configurable(make: Callable[..., dict[str, Any]]) -> None:
    # capture 108
    a = make(context={"user": "ctx-asst"}, config={"tags": ["t"]}, description="d")
    assert a["config"] == {"tags": ["t"], "configurable": {"user": "ctx-asst"}}
    assert a["context"] == {"user": "ctx-asst"}
    assert (a["name"], a["description"]) == ("Untitled", "d")


def test_create_with_id_and_empty_name(
    http: httpx.Client, make: Callable[..., dict[str, Any]]
) -> None:
    wanted = str(uuid.uuid4())
    a = make(assistant_id=wanted.upper(), name="")
    assert (a["assistant_id"], a["name"]) == (wanted, "Untitled")
    assert http.get(f"/assistants/{wanted.upper()}").json() == a


def test_create_existing(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    a = make()
    aid = a["assistant_id"]
    r = http.post("/assistants", json={"graph_id": "router", "assistant_id": aid})
    assert_error(r, 409, f"Assistant {aid} already exists")
    r = http.post(
        "/assistants",
        json={"graph_id": "router", "assistant_id": aid, "if_exists": "do_nothing", "name": "x"},
    )
    assert r.status_code == 200 and r.json() == a


def test_create_unknown_graph(http: httpx.Client) -> None:
    # capture 109; do_nothing does not skip the check, an empty graph id is checked too
    for body in ({"graph_id": "nope"}, {"graph_id": "nope", "if_exists": "do_nothing"}):
        assert_error(http.post("/assistants", json=body), 404, graph_not_found("nope"))
    assert_error(http.post("/assistants", json={"graph_id": ""}), 404, graph_not_found(""))


def test_create_configurable_and_context(http: httpx.Client) -> None:
    body = {"graph_id": "inspect", "config": {"configurable": {"a": 1}}, "context": {"b": 2}}
    assert_error(http.post("/assistants", json=body), 400, BOTH)
    # the graph is checked first
    assert_error(
        http.post("/assistants", json={**body, "graph_id": "nope"}), 404, graph_not_found("nope")
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"graph_id": "inspect", "assistant_id": "xyz"}, NOT_UUID),
        ({"graph_id": "nope", "assistant_id": "echo"}, NOT_UUID),  # the id before the graph
        (
            {},
            schema_error('"graph_id" is a required property', "required", "", "", "{}"),
        ),
        ({"graph_id": 5}, type_error("graph_id", "5", "string")),
        ({"graph_id": "inspect", "config": "x"}, type_error("config", '"x"', "object")),
        ({"graph_id": "inspect", "config": None}, type_error("config", "null", "object")),
        ({"graph_id": "inspect", "context": None}, type_error("context", "null", "object")),
        ({"graph_id": "inspect", "metadata": []}, type_error("metadata", "[]", "object")),
        ({"graph_id": "inspect", "name": None}, type_error("name", "null", "string")),
        (
            {"graph_id": "inspect", "description": 5},
            schema_error(
                '5 is not of types "null", "string"',
                "type",
                '["properties"]["description"]',
                '["description"]',
                "5",
            ),
        ),
        (
            {"graph_id": "echo", "if_exists": "bogus"},
            schema_error(
                '"bogus" is not one of "raise" or "do_nothing"',
                "enum",
                '["properties"]["if_exists"]',
                '["if_exists"]',
                '"bogus"',
            ),
        ),
        # config is then checked on its own against the Config schema (paths from its root)
        ({"graph_id": "nope", "config": {"tags": "x"}}, type_error("tags", '"x"', "array")),
        (
            {"graph_id": "inspect", "config": {"recursion_limit": "5"}},
            type_error("recursion_limit", '"5"', "integer"),
        ),
        (
            {"graph_id": "inspect", "config": {"configurable": {"a\u0000b": 1}}},
            schema_error(
                f'"a\\u0000b" does not match {NUL_PATTERN}',
                "pattern",
                '["properties"]["configurable"]["propertyNames"]',
                '["configurable"]',
                '{"a\\u0000b":1}',
            ),
        ),
        (
            {"graph_id": "inspect", "config": {"a\u0000b": 1}},
            schema_error(
                f'"a\\u0000b" does not match {NUL_PATTERN}',
                "pattern",
                '["properties"]["config"]["propertyNames"]',
                '["config"]',
                '{"a\\u0000b":1}',
            ),
        ),
        (
            {"graph_id": "inspect", "context": {"a\u0000b": 1}},
            schema_error(
                f'"a\\u0000b" does not match {NUL_PATTERN}',
                "pattern",
                '["properties"]["context"]["propertyNames"]',
                '["context"]',
                '{"a\\u0000b":1}',
            ),
        ),
        ([1], schema_error('[1] is not of type "object"', "type", "", "", "[1]")),
    ],
)
def test_create_invalid_bodies(http: httpx.Client, body: Any, detail: str) -> None:
    assert_error(http.post("/assistants", json=body), 422, detail)


@pytest.mark.parametrize("content", [b"", b"{", b'{"graph_id": "echo"'])
def test_create_invalid_json(http: httpx.Client, content: bytes) -> None:
    r = http.post("/assistants", content=content, headers={"content-type": "application/json"})
    assert_error(r, 422, "Invalid JSON in request body")


def test_sdk_create_get_update_delete(url: str) -> None:
    client = get_sync_client(url=url)
    a = client.assistants.create(
        "inspect", config={"tags": ["t"]}, metadata={"k": 1}, name="sdk", description="d"
    )
    try:
        assert client.assistants.get(a["assistant_id"]) == a
        with pytest.raises(ConflictError):
            client.assistants.create("inspect", assistant_id=a["assistant_id"])
        same = client.assistants.create(
            "inspect", assistant_id=a["assistant_id"], if_exists="do_nothing"
        )
        assert same == a
        b = client.assistants.update(a["assistant_id"], metadata={"j": 2}, name="renamed")
        assert (b["version"], b["name"], b["metadata"]) == (2, "renamed", {"k": 1, "j": 2})
        assert client.assistants.get(a["assistant_id"]) == b
    finally:
        client.assistants.delete(a["assistant_id"])
    with pytest.raises(NotFoundError):
        client.assistants.get(a["assistant_id"])


# -------------------------------------------------------------------------------- get


@pytest.mark.parametrize("suffix", ["", "/graph", "/schemas", "/subgraphs", "/subgraphs/child"])
def test_unknown_assistant_reads(http: httpx.Client, suffix: str) -> None:
    assert_error(http.get(f"/assistants/{UNKNOWN}{suffix}"), 404, "Not Found")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/graph"),
        ("GET", "/schemas"),
        ("GET", "/subgraphs"),
        ("GET", "/subgraphs/child"),
        ("POST", "/versions"),
        ("POST", "/latest"),
    ],
)
def test_malformed_assistant_id(http: httpx.Client, method: str, suffix: str) -> None:
    body = {"version": 1} if suffix == "/latest" else {}
    r = http.request(method, f"/assistants/not-a-uuid{suffix}", json=body)
    assert_error(r, 422, NOT_UUID)


# -------------------------------------------------------------------------------- update


def test_patch_makes_a_new_version(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    a = make(
        config={"tags": ["t"], "configurable": {"user": "u1"}}, metadata={"k": 1, "n": {"a": 1}}
    )
    aid = a["assistant_id"]
    r = http.patch(f"/assistants/{aid}", json={"metadata": {"m": 2, "n": {"b": 2}}})
    assert r.status_code == 200
    b = r.json()
    assert list(b) == ASSISTANT_KEYS
    assert b["metadata"] == {"k": 1, "n": {"b": 2}, "m": 2}  # merged at the top level
    assert (b["version"], b["created_at"]) == (2, a["created_at"])
    assert b["updated_at"] > a["updated_at"]
    assert {k: b[k] for k in ("config", "context", "name", "description", "graph_id")} == {
        k: a[k] for k in ("config", "context", "name", "description", "graph_id")
    }
    assert http.get(f"/assistants/{aid}").json() == b


def test_patch_fields(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    aid = make(config={"tags": ["t"], "configurable": {"user": "u1"}}, name="n", description="d")[
        "assistant_id"
    ]

    def patch(**body: Any) -> dict[str, Any]:
        r = http.patch(f"/assistants/{aid}", json=body)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    # config replaces; without configurable the context stays (as in the reference)
    b = patch(config={"tags": ["x"]})
    assert (b["config"], b["context"], b["version"]) == ({"tags": ["x"]}, {"user": "u1"}, 2)
    # an empty config changes nothing
    assert patch(config={})["config"] == {"tags": ["x"]}
    # configurable given: the context follows
    b = patch(config={"configurable": {"user": "u3"}})
    assert (b["config"], b["context"]) == ({"configurable": {"user": "u3"}}, {"user": "u3"})
    # both config and context: config.configurable becomes the context
    b = patch(config={"recursion_limit": 4}, context={"user": "u4"})
    assert (b["config"], b["context"]) == (
        {"recursion_limit": 4, "configurable": {"user": "u4"}},
        {"user": "u4"},
    )
    b = patch(graph_id="router", name="", description="d2")
    assert (b["graph_id"], b["name"], b["description"], b["version"]) == ("router", "", "d2", 6)
    b = patch()
    assert b["version"] == 7


def test_patch_context_alone(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    aid = make(config={"configurable": {"user": "u1"}})["assistant_id"]
    b = http.patch(f"/assistants/{aid}", json={"context": {"user": "u2"}}).json()
    assert (b["config"], b["context"]) == ({"configurable": {"user": "u2"}}, {"user": "u2"})
    # an empty context replaces the context only
    b = http.patch(f"/assistants/{aid}", json={"context": {}}).json()
    assert (b["config"], b["context"]) == ({"configurable": {"user": "u2"}}, {})


def test_patch_context_alone_keeps_other_config_keys(
    http: httpx.Client, make: Callable[..., dict[str, Any]], graphport_only: None
) -> None:
    # the reference replaces the whole config with {"configurable": context}, losing tags
    aid = make(config={"tags": ["t"], "recursion_limit": 9})["assistant_id"]
    b = http.patch(f"/assistants/{aid}", json={"context": {"user": "u2"}}).json()
    assert b["config"] == {"tags": ["t"], "recursion_limit": 9, "configurable": {"user": "u2"}}


def test_patch_errors(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    aid = make()["assistant_id"]
    assert_error(
        http.patch(f"/assistants/{UNKNOWN}", json={}), 404, f"Assistant {UNKNOWN} not found"
    )
    # the body and the graph are checked before the assistant
    assert_error(
        http.patch(f"/assistants/{UNKNOWN}", json={"graph_id": 1}),
        422,
        type_error("graph_id", "1", "string"),
    )
    assert_error(
        http.patch(f"/assistants/{UNKNOWN}", json={"graph_id": "nope"}),
        404,
        graph_not_found("nope"),
    )
    both = {"config": {"configurable": {"a": 1}}, "context": {"b": 2}}
    assert_error(http.patch(f"/assistants/{aid}", json=both), 400, BOTH)
    assert_error(
        http.patch(f"/assistants/{aid}", json={"description": None}),
        422,
        type_error("description", "null", "string"),
    )
    assert_error(
        http.patch(f"/assistants/{aid}", json={"metadata": None}),
        422,
        type_error("metadata", "null", "object"),
    )
    assert_error(
        http.patch(f"/assistants/{aid}", json={"config": {"tags": 1}}),
        422,
        type_error("tags", "1", "array"),
    )
    assert_error(
        http.patch(f"/assistants/{aid}", json={"context": {"a\u0000b": 1}}),
        422,
        schema_error(
            f'"a\\u0000b" does not match {NUL_PATTERN}',
            "pattern",
            '["properties"]["context"]["propertyNames"]',
            '["context"]',
            '{"a\\u0000b":1}',
        ),
    )
    assert_error(
        http.patch(f"/assistants/{aid}", content=b"{"), 422, "Invalid JSON in request body"
    )
    assert http.get(f"/assistants/{aid}").json()["version"] == 1  # nothing was stored


# -------------------------------------------------------------------------------- versions


def test_versions(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    a = make(metadata={"stage": "a"}, name="v1")
    aid = a["assistant_id"]
    http.patch(f"/assistants/{aid}", json={"metadata": {"stage": "b"}, "name": "v2"})
    last = http.patch(f"/assistants/{aid}", json={"graph_id": "router", "name": "v3"}).json()
    r = http.post(f"/assistants/{aid}/versions", json={})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    versions = r.json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert all(list(v) == VERSION_KEYS for v in versions)
    assert versions[0] == {k: last[k] for k in VERSION_KEYS if k != "created_at"} | {
        "created_at": last["updated_at"]
    }
    assert versions[2] == {k: a[k] for k in VERSION_KEYS}
    assert [v["graph_id"] for v in versions] == ["router", "inspect", "inspect"]

    def listed(**body: Any) -> list[int]:
        r = http.post(f"/assistants/{aid}/versions", json=body)
        assert r.status_code == 200, r.text
        return [v["version"] for v in r.json()]

    assert listed(metadata={"stage": "b"}) == [3, 2]
    assert listed(limit=1, offset=1) == [2]


def test_versions_errors(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    aid = make()["assistant_id"]
    r = http.post(f"/assistants/{UNKNOWN}/versions", json={})
    assert_error(r, 404, f"Assistant {UNKNOWN} not found")
    assert_error(
        http.post(f"/assistants/{aid}/versions", json={"limit": 0}),
        422,
        schema_error(
            "0 is less than the minimum of 1",
            "minimum",
            '["properties"]["limit"]',
            '["limit"]',
            "0",
        ),
    )
    assert_error(
        http.post(f"/assistants/{aid}/versions", json={"limit": None}),
        422,
        type_error("limit", "null", "integer"),
    )
    r = http.post(f"/assistants/{aid}/versions", content=b"")
    assert_error(r, 422, "Invalid JSON in request body")


def test_versions_matching_nothing_is_an_empty_list(
    http: httpx.Client, make: Callable[..., dict[str, Any]], graphport_only: None
) -> None:
    # the reference answers 404 "Assistant <id> not found" for an existing assistant
    aid = make()["assistant_id"]
    assert http.post(f"/assistants/{aid}/versions", json={"metadata": {"no": 1}}).json() == []
    assert http.post(f"/assistants/{aid}/versions", json={"offset": 5}).json() == []


def test_set_latest(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    a = make(config={"tags": ["v1"]}, metadata={"m": 1}, name="one", description="d1")
    aid = a["assistant_id"]
    http.patch(
        f"/assistants/{aid}",
        json={"config": {"tags": ["v2"]}, "metadata": {"m": 2}, "name": "two", "description": "d2"},
    )
    r = http.post(f"/assistants/{aid}/latest", json={"version": 1})
    assert r.status_code == 200
    back = r.json()
    assert list(back) == ASSISTANT_KEYS
    assert {k: v for k, v in back.items() if k != "updated_at"} == {
        k: v for k, v in a.items() if k != "updated_at"
    }
    assert back["updated_at"] > a["updated_at"]
    assert http.get(f"/assistants/{aid}").json() == back
    # a later update is numbered past the highest version
    assert http.patch(f"/assistants/{aid}", json={}).json()["version"] == 3


def test_set_latest_restores_graph_and_context(
    http: httpx.Client, make: Callable[..., dict[str, Any]], graphport_only: None
) -> None:
    # the reference restores config, metadata, name and description but keeps the newest
    # graph_id and context, so config.configurable and context disagree afterwards
    a = make(context={"user": "u1"})
    aid = a["assistant_id"]
    http.patch(f"/assistants/{aid}", json={"graph_id": "router", "context": {"user": "u2"}})
    back = http.post(f"/assistants/{aid}/latest", json={"version": 1}).json()
    assert (back["graph_id"], back["config"], back["context"]) == (
        "inspect",
        {"configurable": {"user": "u1"}},
        {"user": "u1"},
    )


def test_set_latest_errors(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    aid = make()["assistant_id"]
    r = http.post(f"/assistants/{aid}/latest", json={"version": 99})
    assert_error(r, 404, f"Version 99 not found for assistant {aid}")
    r = http.post(f"/assistants/{aid}/latest", json={})
    assert_error(r, 404, f"Version None not found for assistant {aid}")
    r = http.post(f"/assistants/{UNKNOWN}/latest", json={"version": 1})
    assert_error(r, 404, f"Assistant {UNKNOWN} not found")
    for bad, shown in (("2", '"2"'), (None, "null"), (True, "true")):
        r = http.post(f"/assistants/{aid}/latest", json={"version": bad})
        assert_error(r, 422, type_error("version", shown, "integer"))
    # the body is read before the path
    r = http.post("/assistants/not-a-uuid/latest", json={"version": "x"})
    assert_error(r, 422, type_error("version", '"x"', "integer"))


def test_sdk_versions_and_latest(url: str) -> None:
    client = get_sync_client(url=url)
    a = client.assistants.create("inspect", metadata={"v": 1})
    aid = a["assistant_id"]
    try:
        client.assistants.update(aid, metadata={"v": 2})
        versions = client.assistants.get_versions(aid)
        assert [(v["version"], v["metadata"]) for v in versions] == [(2, {"v": 2}), (1, {"v": 1})]
        assert [v["version"] for v in client.assistants.get_versions(aid, metadata={"v": 1})] == [1]
        assert client.assistants.set_latest(aid, 1)["metadata"] == {"v": 1}
        with pytest.raises(NotFoundError):
            client.assistants.set_latest(aid, 5)
    finally:
        client.assistants.delete(aid)


# -------------------------------------------------------------------------------- runs see writes


def test_runs_use_the_current_version(
    http: httpx.Client, make: Callable[..., dict[str, Any]]
) -> None:
    aid = make(config={"tags": ["v1"]})["assistant_id"]
    assert wait(http, aid)["seen"]["tags"] == ["v1"]
    http.patch(f"/assistants/{aid}", json={"config": {"tags": ["v2"]}})
    assert wait(http, aid)["seen"]["tags"] == ["v2"]
    http.post(f"/assistants/{aid}/latest", json={"version": 1})
    assert wait(http, aid)["seen"]["tags"] == ["v1"]
    http.delete(f"/assistants/{aid}")
    r = http.post("/runs/wait", json={"assistant_id": aid, "input": {}})
    assert_error(r, 404, "Thread or assistant not found.")


def test_runs_see_a_patched_default_assistant(http: httpx.Client) -> None:
    """A default assistant is an assistant like any other: runs by graph id see its updates."""
    router = system_id("router")
    assert wait(http, "router") == {"messages": ["a"]}
    r = http.patch(f"/assistants/{router}", json={"config": {"recursion_limit": 1}})
    try:
        assert r.status_code == 200 and r.json()["version"] > 1
        for aid in ("router", router):
            out = wait(http, aid)
            assert out["__error__"]["error"] == "GraphRecursionError", out
    finally:
        http.post(f"/assistants/{router}/latest", json={"version": 1})
    assert wait(http, "router") == {"messages": ["a"]}
    assert http.get(f"/assistants/{router}").json()["config"] == {}


# -------------------------------------------------------------------------------- delete


def test_delete(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    aid = make()["assistant_id"]
    r = http.delete(f"/assistants/{aid}")
    assert r.status_code == 204 and r.content == b""
    assert_error(http.get(f"/assistants/{aid}"), 404, "Not Found")
    assert_error(http.delete(f"/assistants/{aid}"), 404, f"Assistant with ID {aid} not found")
    assert_error(
        http.post(f"/assistants/{aid}/versions", json={}), 404, f"Assistant {aid} not found"
    )
    assert_error(
        http.delete(f"/assistants/{UNKNOWN}"), 404, f"Assistant with ID {UNKNOWN} not found"
    )


def test_delete_interrupts_the_assistants_runs(
    http: httpx.Client, make: Callable[..., dict[str, Any]], graphport_only: None
) -> None:
    """Deleting an assistant ends its pending and running runs `interrupted` (the reference
    marks the running one so but lets it run on to `success`); other assistants' runs go on."""
    aid = make(graph_id="sleepy")["assistant_id"]
    other = make(graph_id="sleepy")["assistant_id"]
    runs = {}
    for name, assistant, body in [
        ("running", aid, {"input": {"sleep": 30}}),
        ("pending", aid, {"input": {"sleep": 0}, "after_seconds": 30}),
        ("other", other, {"input": {"sleep": 0.5}}),
    ]:
        tid = http.post("/threads", json={}).json()["thread_id"]
        run = http.post(f"/threads/{tid}/runs", json={"assistant_id": assistant, **body}).json()
        runs[name] = (tid, run["run_id"])
    assert http.delete(f"/assistants/{aid}").status_code == 204
    for name in ("running", "pending"):
        tid, rid = runs[name]
        body = http.get(f"/threads/{tid}/runs/{rid}/join").json()
        assert body["__error__"]["error"] == "UserInterrupt", body
        assert http.get(f"/threads/{tid}/runs/{rid}").json()["status"] == "interrupted"
    tid, rid = runs["other"]
    assert http.get(f"/threads/{tid}/runs/{rid}/join").json()["messages"] == ["start", "woke"]


def _kept_thread(http: httpx.Client, assistant_id: str) -> str:
    r = http.post(
        "/runs/wait", json={"assistant_id": assistant_id, "input": {}, "on_completion": "keep"}
    )
    assert r.status_code == 200, r.text
    return r.headers["content-location"].split("/")[2]


@pytest.mark.parametrize("query", ["?delete_threads=true", "?delete_threads=True"])
def test_delete_threads(
    http: httpx.Client, make: Callable[..., dict[str, Any]], query: str
) -> None:
    aid, other = make()["assistant_id"], make()["assistant_id"]
    mine = [_kept_thread(http, aid) for _ in range(2)]
    theirs = _kept_thread(http, other)
    assert http.get(f"/threads/{mine[0]}").json()["metadata"]["assistant_id"] == aid
    assert http.delete(f"/assistants/{aid}{query}").status_code == 204
    for tid in mine:
        assert_error(http.get(f"/threads/{tid}"), 404, f"Thread with ID {tid} not found")
    assert http.get(f"/threads/{theirs}").status_code == 200
    http.delete(f"/threads/{theirs}")


@pytest.mark.parametrize("query", ["", "?delete_threads=false", "?delete_threads=1"])
def test_delete_keeps_threads(
    http: httpx.Client, make: Callable[..., dict[str, Any]], query: str
) -> None:
    aid = make()["assistant_id"]
    tid = _kept_thread(http, aid)
    assert http.delete(f"/assistants/{aid}{query}").status_code == 204
    assert http.get(f"/threads/{tid}").status_code == 200
    http.delete(f"/threads/{tid}")


async def test_async_sdk_delete_threads(url: str) -> None:
    client = get_client(url=url)
    a = await client.assistants.create("inspect")
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], a["assistant_id"], input={})
    await client.assistants.delete(a["assistant_id"], delete_threads=True)
    with pytest.raises(NotFoundError):
        await client.threads.get(thread["thread_id"])


# -------------------------------------------------------------------------------- search / count


def test_search_filters(http: httpx.Client, make: Callable[..., dict[str, Any]], tag: str) -> None:
    a = make(name="Alpha Bot", metadata={"t": tag, "n": {"x": 1, "y": 2}, "flag": True})
    b = make(name="beta", graph_id="router", metadata={"t": tag, "n": {"x": 1}})

    def found(**body: Any) -> list[str]:
        r = http.post("/assistants/search", json={"metadata": {"t": tag}, **body})
        assert r.status_code == 200, r.text
        return [x["assistant_id"] for x in r.json()]

    assert found() == [b["assistant_id"], a["assistant_id"]]  # newest first
    assert found(graph_id="router") == [b["assistant_id"]]
    assert found(name="BOT") == [a["assistant_id"]]
    assert found(name="") == [b["assistant_id"], a["assistant_id"]]
    assert found(metadata={"t": tag, "n": {"y": 2}}) == [a["assistant_id"]]  # nested containment
    assert found(metadata={"t": tag, "n": {"x": 1}}) == [b["assistant_id"], a["assistant_id"]]
    assert found(metadata={"t": tag, "flag": True}) == [a["assistant_id"]]
    assert found(sort_by="name", sort_order="asc") == [a["assistant_id"], b["assistant_id"]]
    assert found(sort_by="name", sort_order="desc") == [b["assistant_id"], a["assistant_id"]]
    assert found(sort_by="created_at", sort_order="asc") == [a["assistant_id"], b["assistant_id"]]
    http.patch(f"/assistants/{a['assistant_id']}", json={})
    assert found(sort_by="updated_at", sort_order="desc") == [a["assistant_id"], b["assistant_id"]]
    r = http.post("/assistants/count", json={"metadata": {"t": tag}, "name": "a"})
    assert r.status_code == 200 and r.content == b"2"  # "Alpha Bot", "beta"


def test_search_full_records_and_select(
    http: httpx.Client, make: Callable[..., dict[str, Any]], tag: str
) -> None:
    a = make(metadata={"t": tag})
    r = http.post("/assistants/search", json={"metadata": {"t": tag}})
    assert r.json() == [a]
    assert (r.headers["x-pagination-total"], "x-pagination-next" in r.headers) == ("1", False)
    # selected fields come in the record's order, whatever the order asked
    r = http.post(
        "/assistants/search", json={"metadata": {"t": tag}, "select": ["version", "name", "name"]}
    )
    assert r.content == b'[{"name":"Untitled","version":1}]'
    r = http.post("/assistants/search", json={"metadata": {"t": tag}, "select": []})
    assert r.json() == [a]


def test_search_pagination_headers(
    http: httpx.Client, make: Callable[..., dict[str, Any]], tag: str
) -> None:
    made = [make(metadata={"t": tag})["assistant_id"] for _ in range(3)]
    r = http.post("/assistants/search", json={"metadata": {"t": tag}, "limit": 2})
    assert [x["assistant_id"] for x in r.json()] == made[:0:-1]
    assert r.headers["x-pagination-next"] == "2"
    assert r.headers["x-pagination-total"] == "3"  # the reference's offset+returned+1 agrees here
    r = http.post("/assistants/search", json={"metadata": {"t": tag}, "limit": 2, "offset": 2})
    assert [x["assistant_id"] for x in r.json()] == made[:1]
    assert (r.headers["x-pagination-total"], "x-pagination-next" in r.headers) == ("3", False)


def test_sdk_search_and_count(url: str, make: Callable[..., dict[str, Any]], tag: str) -> None:
    made = [make(metadata={"t": tag}, name=f"sdk-{i}")["assistant_id"] for i in range(3)]
    client = get_sync_client(url=url)
    page = client.assistants.search(metadata={"t": tag}, limit=2, response_format="object")
    assert [a["assistant_id"] for a in page["assistants"]] == made[:0:-1]
    assert page["next"] == "2"
    rest = client.assistants.search(metadata={"t": tag}, limit=2, offset=2)
    assert [a["assistant_id"] for a in rest] == made[:1]
    asc = client.assistants.search(
        metadata={"t": tag}, sort_by="name", sort_order="asc", select=["name"]
    )
    assert asc == [{"name": "sdk-0"}, {"name": "sdk-1"}, {"name": "sdk-2"}]
    assert client.assistants.count(metadata={"t": tag}) == 3
    assert client.assistants.count(metadata={"t": tag}, graph_id="router") == 0
    assert client.assistants.count(metadata={"created_by": "system"}, graph_id="nested") == 1


def test_search_sort_order_without_sort_by(
    http: httpx.Client, make: Callable[..., dict[str, Any]], tag: str, graphport_only: None
) -> None:
    # the reference ignores sort_order when sort_by is absent (always newest first)
    made = [make(metadata={"t": tag})["assistant_id"] for _ in range(2)]
    r = http.post("/assistants/search", json={"metadata": {"t": tag}, "sort_order": "asc"})
    assert [x["assistant_id"] for x in r.json()] == made


def test_count(http: httpx.Client) -> None:
    everything = http.post("/assistants/search", json={"limit": 1000}).json()
    r = http.post("/assistants/count", json={})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == len(everything)
    assert http.post("/assistants/count", json={"graph_id": "nested", "limit": 5}).json() == 1
    assert_error(
        http.post("/assistants/count", json={"graph_id": "nope"}), 404, graph_not_found("nope")
    )
    assert_error(
        http.post("/assistants/count", json={"graph_id": 5}),
        422,
        type_error("graph_id", "5", "string"),
    )
    assert_error(http.post("/assistants/count", content=b""), 422, "Invalid JSON in request body")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"select": ["bogus"]},
            schema_error(
                '"bogus" is not one of "assistant_id", "graph_id" or 8 other candidates',
                "enum",
                '["properties"]["select"]["items"]',
                '["select"][0]',
                '"bogus"',
            ),
        ),
        (
            {"sort_by": "bogus"},
            schema_error(
                '"bogus" is not one of "assistant_id", "created_at" or 3 other candidates',
                "enum",
                '["properties"]["sort_by"]',
                '["sort_by"]',
                '"bogus"',
            ),
        ),
        (
            {"sort_order": "ASC"},
            schema_error(
                '"ASC" is not one of "asc" or "desc"',
                "enum",
                '["properties"]["sort_order"]',
                '["sort_order"]',
                '"ASC"',
            ),
        ),
        (
            {"offset": -1},
            schema_error(
                "-1 is less than the minimum of 0",
                "minimum",
                '["properties"]["offset"]',
                '["offset"]',
                "-1",
            ),
        ),
        ({"limit": "5"}, type_error("limit", '"5"', "integer")),
        ({"limit": True}, type_error("limit", "true", "integer")),
        ({"name": None}, type_error("name", "null", "string")),
        ({"metadata": None}, type_error("metadata", "null", "object")),
        ({"graph_id": "nope"}, graph_not_found("nope")),
        ({"graph_id": ""}, graph_not_found("")),
        (  # the body is checked before the graph
            {"graph_id": "nope", "select": ["x"]},
            schema_error(
                '"x" is not one of "assistant_id", "graph_id" or 8 other candidates',
                "enum",
                '["properties"]["select"]["items"]',
                '["select"][0]',
                '"x"',
            ),
        ),
    ],
)
def test_search_invalid_bodies(http: httpx.Client, body: dict[str, Any], detail: str) -> None:
    r = http.post("/assistants/search", json=body)
    assert_error(r, 404 if detail.startswith("Graph ") else 422, detail)


# -------------------------------------------------------------------------------- graph, subgraphs


CHILD_SCHEMAS = {
    "input_schema": {
        "properties": {"messages": {"items": {}, "title": "Messages", "type": "array"}},
        "title": "MsgState",
        "type": "object",
    },
    "output_schema": {
        "properties": {"messages": {"items": {}, "title": "Messages", "type": "array"}},
        "title": "MsgState",
        "type": "object",
    },
    "state_schema": {
        "properties": {
            "messages": {"default": None, "items": {}, "title": "Messages", "type": "array"}
        },
        "title": "LangGraphState",
        "type": "object",
    },
    "config_schema": {},
    "context_schema": None,
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/assistants/{system_id('echo')}/subgraphs", {}),
        (f"/assistants/{system_id('nested')}/subgraphs", {"child": CHILD_SCHEMAS}),
        (f"/assistants/{system_id('nested')}/subgraphs?recurse=true", {"child": CHILD_SCHEMAS}),
        (f"/assistants/{system_id('nested')}/subgraphs/child", {"child": CHILD_SCHEMAS}),
        (f"/assistants/{system_id('nested')}/subgraphs/nope", {}),
    ],
)
def test_subgraphs(http: httpx.Client, path: str, expected: dict[str, Any]) -> None:
    r = http.get(path)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == expected


def test_sdk_graph_schemas_subgraphs(url: str, make: Callable[..., dict[str, Any]]) -> None:
    client = get_sync_client(url=url)
    aid = make(graph_id="nested")["assistant_id"]
    nested = system_id("nested")
    assert client.assistants.get_subgraphs(aid) == {"child": CHILD_SCHEMAS}
    assert client.assistants.get_subgraphs(aid, namespace="child", recurse=True) == {
        "child": CHILD_SCHEMAS
    }
    assert client.assistants.get_graph(aid) == client.assistants.get_graph(nested)
    assert client.assistants.get_graph(aid, xray=1) == client.assistants.get_graph(
        nested, xray=True
    )
    schemas = client.assistants.get_schemas(aid)
    assert schemas == client.assistants.get_schemas(nested)
    assert schemas["graph_id"] == "nested"
    assert schemas["state_schema"]["title"] == "nested_state"


@pytest.mark.parametrize("xray", ["0", "-1", "abc", "1.5"])
def test_invalid_xray(http: httpx.Client, xray: str) -> None:
    r = http.get(f"/assistants/{system_id('echo')}/graph?xray={xray}")
    assert_error(r, 422, "Invalid xray value")


@pytest.mark.parametrize("xray", ["", "false", "False"])
def test_xray_off(http: httpx.Client, xray: str) -> None:
    plain = http.get(f"/assistants/{system_id('nested')}/graph").json()
    assert http.get(f"/assistants/{system_id('nested')}/graph?xray={xray}").json() == plain
    assert "child:child_node" not in {n["id"] for n in plain["nodes"]}


# ------------------------------------------------------------------------------ graph ids in paths


def test_graph_id_paths(http: httpx.Client, graphport_only: None) -> None:
    # §7 #11: a graph id stands for its default assistant in every /assistants/{aid} path
    nested = system_id("nested")
    assert http.get("/assistants/nested/subgraphs").json() == {"child": CHILD_SCHEMAS}
    assert http.get("/assistants/nested/subgraphs/child").json() == {"child": CHILD_SCHEMAS}
    by_graph = http.post("/assistants/nested/versions", json={}).json()
    assert by_graph == http.post(f"/assistants/{nested}/versions", json={}).json()
    assert by_graph[-1]["assistant_id"] == nested


@pytest.fixture
def own_server(tmp_path: Path, server: Server) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("restarts a graphport server of its own")
    srv = start_server(tmp_path)
    yield srv
    srv.stop()


def test_graph_id_writes_and_restart(own_server: Server, tmp_path: Path) -> None:
    """PATCH, latest and DELETE by graph id act on the default assistant; versions survive a
    restart, where a renamed default assistant gets its graph's name back (a new version) and
    a deleted one is made again (version 1)."""
    port = int(own_server.url.rsplit(":", 1)[1])
    with httpx.Client(base_url=own_server.url, timeout=30) as c:
        b = c.patch("/assistants/router", json={"config": {"recursion_limit": 1}}).json()
        assert (b["assistant_id"], b["version"]) == (system_id("router"), 2)
        assert wait(c, "router")["__error__"]["error"] == "GraphRecursionError"
        assert c.post("/assistants/router/latest", json={"version": 1}).json()["version"] == 1
        c.patch("/assistants/router", json={"name": "renamed"})
        assert c.delete("/assistants/hitl").status_code == 204
        assert_error(c.get("/assistants/hitl"), 404, "Not Found")
        r = c.post("/runs/wait", json={"assistant_id": "hitl", "input": {}})
        assert_error(r, 404, "Thread or assistant not found.")
    own_server.stop()
    again = start_server(tmp_path, port=port)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as c:
            router = c.get("/assistants/router").json()
            assert (router["version"], router["name"], router["config"]) == (4, "router", {})
            versions = c.post("/assistants/router/versions", json={}).json()
            assert [(v["version"], v["name"]) for v in versions] == [
                (4, "router"), (3, "renamed"), (2, "router"), (1, "router")
            ]  # fmt: skip
            hitl = c.get("/assistants/hitl").json()
            assert (hitl["version"], hitl["metadata"]) == (1, {"created_by": "system"})
    finally:
        again.stop()


def test_assistants_of_a_removed_graph_are_hidden(own_server: Server, tmp_path: Path) -> None:
    """After its graph leaves langgraph.json, an assistant is 404 and out of search and count."""
    port = int(own_server.url.rsplit(":", 1)[1])
    with httpx.Client(base_url=own_server.url, timeout=30) as c:
        aid = c.post("/assistants", json={"graph_id": "loop", "metadata": {"k": 1}}).json()[
            "assistant_id"
        ]
    own_server.stop()
    config = tmp_path / "langgraph.json"
    config.write_text(
        json.dumps({"graphs": {"echo": str(ROOT / "tests" / "graphs" / "graphs.py") + ":echo"}})
    )
    again = start_server(tmp_path, config=config, port=port)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as c:
            assert_error(c.get(f"/assistants/{aid}"), 404, f"assistant {aid} not found")
            assert c.post("/assistants/search", json={"metadata": {"k": 1}}).json() == []
            assert c.post("/assistants/count", json={}).json() == 1  # echo's
    finally:
        again.stop()
