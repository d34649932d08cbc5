"""POST /runs/wait: every error rule, with the exact status and `{"detail": ...}` bytes of the
reference (spec §1.8, §2.2, §2.6, §2.8; strings from /work/refcapture/capture.md).

Each case also passes against the reference (GRAPHPORT_TEST_URL=http://127.0.0.1:8123).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

GRAPHS_JSON = Path(__file__).resolve().parents[1] / "graphs" / "langgraph.json"
ECHO_OK = {"messages": ["hi"], "count": 1}  # echo run with input {}
UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"

# -------------------------------------------------------------------------------- helpers


def assert_error(resp: httpx.Response, status: int, detail: str) -> None:
    """Exact status, JSON content type and body bytes `{"detail":"..."}` (compact, UTF-8)."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"detail": detail}
    expected = json.dumps({"detail": detail}, separators=(",", ":"), ensure_ascii=False)
    assert resp.content == expected.encode()


def wait(http: httpx.Client, body: Any) -> httpx.Response:
    return http.post("/runs/wait", json=body)


RSC = '["components"]["schemas"]["RunCreateStateless"]'


def schema_error(message: str, keyword: str, schema_path: str, at: str, instance: str) -> str:
    """The reference's jsonschema message: 3 paragraphs (spec §2.6)."""
    return (
        f"{message}\n\nFailed validating {json.dumps(keyword)} in schema{schema_path}"
        f"\n\nOn instance{at}:\n    {instance}"
    )


def prop_error(path: list[str], message: str, keyword: str, instance: str) -> str:
    """Schema error on a property of RunCreateStateless, e.g. ["config", "tags"]."""
    schema = RSC + "".join(f'["properties"]["{p}"]' for p in path)
    at = "".join(f'["{p}"]' for p in path)
    return schema_error(message, keyword, schema, at, instance)


def any_of(path: list[str], instance: str) -> str:
    return prop_error(
        path,
        f"{instance} is not valid under any of the schemas listed in the 'anyOf' keyword",
        "anyOf",
        instance,
    )


def type_error(path: list[str], instance: str, typ: str) -> str:
    return prop_error(path, f'{instance} is not of type "{typ}"', "type", instance)


def registered_graphs() -> str:
    return ", ".join(json.loads(GRAPHS_JSON.read_text())["graphs"])


def invalid_assistant(value: str) -> str:
    return (
        f"Invalid assistant: '{value}'. Must be either:\n- A valid assistant UUID, or\n"
        f"- One of the registered graphs: {registered_graphs()}"
    )


BOTH_CONFIGURABLE_AND_CONTEXT = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was"
    " introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)
RESUME = "You must provide a thread_id when resuming."
LOOPBACK_RELATIVE = (
    "Loopback webhooks (relative URLs and localhost) are disabled by default. They bypass"
    " authentication via the in-process ASGI transport and can be abused to invoke internal"
    " routes as an unauthenticated caller. Set webhooks.url.disable_loopback to false (in"
    " langgraph.json or via LANGGRAPH_WEBHOOKS) to opt back in \u2014 only do so when you"
    " control the mounted routes."
)
NUL_PATTERN = '"^(?!.*\\\\[uU]0000)[^\\u0000]*$"'  # as printed: "^(?!.*\\[uU]0000)[^\u0000]*$"


def nul_key_error(schema_path: list[str], at: list[str], key_json: str) -> str:
    schema = RSC + "".join(f'["properties"]["{p}"]' for p in schema_path) + '["propertyNames"]'
    return schema_error(
        f"{key_json} does not match {NUL_PATTERN}",
        "pattern",
        schema,
        "".join(f'["{p}"]' for p in at),
        "{" + key_json + ":1}",
    )


# -------------------------------------------------------------------------------- body parsing


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{nope", {"content-type": "application/json"}),
        (b"", {"content-type": "application/json"}),
        (b"", {}),
        (b'{"assistant_id":"\xff"}', {"content-type": "application/json"}),
        (b'{"assistant_id":"echo","input":{}} trailing', {}),
        (b'{"assistant_id":"echo","input":NaN}', {}),
        (b'{"assistant_id":"echo","input":{"messages":["\\ud800"]}}', {}),
    ],
    ids=["not-json", "empty", "empty-no-content-type", "bad-utf8", "trailing", "nan", "surrogate"],
)
def test_invalid_json(http: httpx.Client, content: bytes, headers: dict[str, str]) -> None:
    r = http.post("/runs/wait", content=content, headers=headers)
    assert_error(r, 422, "Invalid JSON in request body")


def test_leading_and_trailing_whitespace_is_valid_json(http: httpx.Client) -> None:
    r = http.post("/runs/wait", content=b'  {"assistant_id":"echo","input":{}}  ')
    assert r.status_code == 200 and r.json() == ECHO_OK


@pytest.mark.parametrize("raw", ["[]", "null", '"str"', "5"])
def test_body_not_an_object(http: httpx.Client, raw: str) -> None:
    r = http.post("/runs/wait", content=raw.encode(), headers={"content-type": "application/json"})
    detail = schema_error(f'{raw} is not of type "object"', "type", RSC, "", raw)
    assert_error(r, 422, detail)


# -------------------------------------------------------------------------------- schema

BASE: dict[str, Any] = {"assistant_id": "echo", "input": {}}

SCHEMA_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "missing-assistant_id",
        {"input": {}},
        schema_error('"assistant_id" is a required property', "required", RSC, "", '{"input":{}}'),
    ),
    (
        # two violations: the first reported is the missing property
        "missing-assistant_id-and-bad-on_completion",
        {"input": {}, "on_completion": "maybe"},
        schema_error(
            '"assistant_id" is a required property',
            "required",
            RSC,
            "",
            '{"input":{},"on_completion":"maybe"}',
        ),
    ),
    ("assistant_id-5", {"assistant_id": 5, "input": {}}, any_of(["assistant_id"], "5")),
    ("assistant_id-null", {"assistant_id": None, "input": {}}, any_of(["assistant_id"], "null")),
    (
        "on_completion-maybe",
        {**BASE, "on_completion": "maybe"},
        prop_error(
            ["on_completion"], '"maybe" is not one of "delete" or "keep"', "enum", '"maybe"'
        ),
    ),
    (
        # schema errors come before assistant resolution
        "on_completion-maybe-and-bad-assistant",
        {**BASE, "assistant_id": "nope", "on_completion": "maybe"},
        prop_error(
            ["on_completion"], '"maybe" is not one of "delete" or "keep"', "enum", '"maybe"'
        ),
    ),
    (
        "on_completion-null",
        {**BASE, "on_completion": None},
        type_error(["on_completion"], "null", "string"),
    ),
    (
        "on_disconnect-maybe",
        {**BASE, "on_disconnect": "maybe"},
        schema_error(
            '"maybe" is not one of "cancel" or "continue"',
            "enum",
            '["allOf"][1]["properties"]["on_disconnect"]',
            '["on_disconnect"]',
            '"maybe"',
        ),
    ),
    (
        "on_disconnect-null",
        {**BASE, "on_disconnect": None},
        schema_error(
            'null is not of type "string"',
            "type",
            '["allOf"][1]["properties"]["on_disconnect"]',
            '["on_disconnect"]',
            "null",
        ),
    ),
    (
        "durability-bogus",
        {**BASE, "durability": "bogus"},
        prop_error(
            ["durability"], '"bogus" is not one of "sync", "async" or "exit"', "enum", '"bogus"'
        ),
    ),
    (
        "durability-null",
        {**BASE, "durability": None},
        type_error(["durability"], "null", "string"),
    ),
    ("stream_mode-string", {**BASE, "stream_mode": "bogus"}, any_of(["stream_mode"], '"bogus"')),
    (
        "stream_mode-list",
        {**BASE, "stream_mode": ["values", "bogus"]},
        any_of(["stream_mode"], '["values","bogus"]'),
    ),
    ("stream_mode-tools", {**BASE, "stream_mode": "tools"}, any_of(["stream_mode"], '"tools"')),
    ("stream_mode-null", {**BASE, "stream_mode": None}, any_of(["stream_mode"], "null")),
    (
        "recursion_limit-string",
        {**BASE, "config": {"recursion_limit": "5"}},
        type_error(["config", "recursion_limit"], '"5"', "integer"),
    ),
    (
        "recursion_limit-float",
        {**BASE, "config": {"recursion_limit": 5.5}},
        type_error(["config", "recursion_limit"], "5.5", "integer"),
    ),
    (
        "recursion_limit-bool",
        {**BASE, "config": {"recursion_limit": True}},
        type_error(["config", "recursion_limit"], "true", "integer"),
    ),
    (
        "tags-string",
        {**BASE, "config": {"tags": "t"}},
        type_error(["config", "tags"], '"t"', "array"),
    ),
    (
        "tags-int-item",
        {**BASE, "config": {"tags": [1]}},
        schema_error(
            '1 is not of type "string"',
            "type",
            RSC + '["properties"]["config"]["properties"]["tags"]["items"]',
            '["config"]["tags"][0]',
            "1",
        ),
    ),
    ("config-string", {**BASE, "config": "x"}, type_error(["config"], '"x"', "object")),
    ("config-null", {**BASE, "config": None}, type_error(["config"], "null", "object")),
    (
        "configurable-list",
        {**BASE, "config": {"configurable": []}},
        type_error(["config", "configurable"], "[]", "object"),
    ),
    (
        "configurable-null",
        {**BASE, "config": {"configurable": None}},
        type_error(["config", "configurable"], "null", "object"),
    ),
    ("context-string", {**BASE, "context": "x"}, type_error(["context"], '"x"', "object")),
    ("context-null", {**BASE, "context": None}, type_error(["context"], "null", "object")),
    (
        "configurable-NUL-key",
        {**BASE, "config": {"configurable": {"a\u0000b": 1}}},
        nul_key_error(["config", "configurable"], ["config", "configurable"], '"a\\u0000b"'),
    ),
    (
        "configurable-escaped-u0000-key",
        {**BASE, "config": {"configurable": {"a\\u0000b": 1}}},
        nul_key_error(["config", "configurable"], ["config", "configurable"], '"a\\\\u0000b"'),
    ),
    (
        "configurable-escaped-U0000-key",
        {**BASE, "config": {"configurable": {"a\\U0000b": 1}}},
        nul_key_error(["config", "configurable"], ["config", "configurable"], '"a\\\\U0000b"'),
    ),
    (
        "context-NUL-key",
        {**BASE, "context": {"a\u0000b": 1}},
        nul_key_error(["context"], ["context"], '"a\\u0000b"'),
    ),
    (
        "config-top-level-NUL-key",
        {**BASE, "config": {"a\u0000b": 1}},
        nul_key_error(["config"], ["config"], '"a\\u0000b"'),
    ),
    ("command-goto-5", {**BASE, "command": {"goto": 5}}, any_of(["command"], '{"goto":5}')),
    (
        "command-goto-send-list-without-node",
        {**BASE, "command": {"goto": [{"input": 1}]}},
        any_of(["command"], '{"goto":[{"input":1}]}'),
    ),
    (
        "command-goto-send-without-node",
        {**BASE, "command": {"goto": {"input": 1}}},
        any_of(["command"], '{"goto":{"input":1}}'),
    ),
    (
        "command-goto-list-with-int",
        {**BASE, "command": {"goto": ["b", 5]}},
        any_of(["command"], '{"goto":["b",5]}'),
    ),
    ("command-update-5", {**BASE, "command": {"update": 5}}, any_of(["command"], '{"update":5}')),
    (
        # schema errors come before the resume check; the instance is printed with sorted keys
        "command-resume-and-bad-goto",
        {"assistant_id": "hitl", "command": {"resume": "x", "goto": 5}},
        any_of(["command"], '{"goto":5,"resume":"x"}'),
    ),
    ("command-string", {**BASE, "command": "x"}, any_of(["command"], '"x"')),
    (
        "webhook-empty",
        {**BASE, "webhook": ""},
        prop_error(["webhook"], '"" is shorter than 1 character', "minLength", '""'),
    ),
    ("webhook-5", {**BASE, "webhook": 5}, type_error(["webhook"], "5", "string")),
    ("webhook-null", {**BASE, "webhook": None}, type_error(["webhook"], "null", "string")),
    (
        "webhook-longer-than-maxLength",
        {**BASE, "webhook": "http://10.0.0.1/" + "a" * 70000},
        prop_error(
            ["webhook"],
            f'"http://10.0.0.1/{"a" * 70000}" is longer than 65536 characters',
            "maxLength",
            f'"http://10.0.0.1/{"a" * 70000}"',
        ),
    ),
    (
        "after_seconds-string",
        {**BASE, "after_seconds": "x"},
        type_error(["after_seconds"], '"x"', "number"),
    ),
    (
        "after_seconds-null",
        {**BASE, "after_seconds": None},
        type_error(["after_seconds"], "null", "number"),
    ),
    (
        "feedback_keys-string",
        {**BASE, "feedback_keys": "x"},
        type_error(["feedback_keys"], '"x"', "array"),
    ),
    (
        "feedback_keys-null",
        {**BASE, "feedback_keys": None},
        type_error(["feedback_keys"], "null", "array"),
    ),
    (
        "stream_resumable-string",
        {**BASE, "stream_resumable": "x"},
        type_error(["stream_resumable"], '"x"', "boolean"),
    ),
    (
        "stream_subgraphs-string",
        {**BASE, "stream_subgraphs": "x"},
        type_error(["stream_subgraphs"], '"x"', "boolean"),
    ),
    (
        "checkpoint_during-string",
        {**BASE, "checkpoint_during": "x"},
        type_error(["checkpoint_during"], '"x"', "boolean"),
    ),
    ("metadata-list", {**BASE, "metadata": []}, type_error(["metadata"], "[]", "object")),
    ("metadata-null", {**BASE, "metadata": None}, type_error(["metadata"], "null", "object")),
    (
        # schema errors come before the configurable+context check
        "metadata-list-with-configurable-and-context",
        {**BASE, "metadata": [], "config": {"configurable": {"a": 1}}, "context": {"b": 1}},
        type_error(["metadata"], "[]", "object"),
    ),
]


@pytest.mark.parametrize(
    ("body", "detail"), [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES]
)
def test_schema_violation(http: httpx.Client, body: dict[str, Any], detail: str) -> None:
    assert_error(wait(http, body), 422, detail)


@pytest.mark.parametrize(
    "extra",
    [
        {"metadata": {"a\u0000b": 1}},  # no propertyNames pattern on metadata
        {"interrupt_before": "x"},
        {"multitask_strategy": 5},  # not validated for stateless runs
        {"if_not_exists": 5},
        {"config": {"recursion_limit": 5.0}},  # 5.0 is an integer for jsonschema
        {"stream_mode": []},
        {"command": {}},
        {"command": None},
        {"checkpoint_id": None},
        {"checkpoint": {"checkpoint_id": "x"}},  # only top-level checkpoint_id is checked
        {"unknown_field": 1},
    ],
    ids=lambda e: json.dumps(e),
)
def test_accepted_by_the_schema(http: httpx.Client, extra: dict[str, Any]) -> None:
    r = wait(http, {**BASE, **extra})
    assert r.status_code == 200 and r.json() == ECHO_OK


# -------------------------------------------------------------------------------- assistant


@pytest.mark.parametrize("value", ["nope", "", "ECHO", "it's", "\u00e9", "e\u0000cho"])
def test_unknown_graph_string(http: httpx.Client, value: str) -> None:
    assert_error(wait(http, {**BASE, "assistant_id": value}), 422, invalid_assistant(value))


def test_unknown_graph_lists_every_registered_graph_in_config_order(http: httpx.Client) -> None:
    detail = wait(http, {**BASE, "assistant_id": "nope"}).json()["detail"]
    listed = detail.rsplit(": ", 1)[1].split(", ")
    assert listed == list(json.loads(GRAPHS_JSON.read_text())["graphs"])


def test_unknown_assistant_uuid(http: httpx.Client) -> None:
    assert_error(
        wait(http, {**BASE, "assistant_id": UNKNOWN_UUID}), 404, "Thread or assistant not found."
    )


def test_assistant_uuid_is_case_insensitive(http: httpx.Client) -> None:
    r = wait(http, {**BASE, "assistant_id": "046B5DC7-2108-582C-9C6C-31D556D138F0"})
    assert r.status_code == 200 and r.json() == ECHO_OK


def test_duplicate_key_last_one_wins(http: httpx.Client) -> None:
    r = http.post("/runs/wait", content=b'{"assistant_id":"echo","assistant_id":"nope","input":{}}')
    assert_error(r, 422, invalid_assistant("nope"))


# -------------------------------------------------------------------------------- checkpoint_id


@pytest.mark.parametrize("value", ["x", "1234"])
def test_bad_checkpoint_id(http: httpx.Client, value: str) -> None:
    assert_error(wait(http, {**BASE, "checkpoint_id": value}), 422, "Invalid checkpoint ID")


def test_empty_checkpoint_id_counts_as_absent(http: httpx.Client) -> None:
    r = wait(http, {**BASE, "checkpoint_id": ""})
    assert r.status_code == 200, r.text
    assert r.json() == ECHO_OK


def test_valid_checkpoint_id_on_a_fresh_thread_is_ignored(http: httpx.Client) -> None:
    r = wait(http, {**BASE, "checkpoint_id": "1f1e7a62-0c28-6a3e-8001-5d5b1f2a6d10"})
    assert r.status_code == 200 and r.json() == ECHO_OK


# -------------------------------------------------------------------------------- resume


@pytest.mark.parametrize(
    "body",
    [
        {"assistant_id": "hitl", "command": {"resume": "x"}},
        {"assistant_id": "hitl", "command": {"resume": 1}},
        {"assistant_id": "hitl", "input": {"messages": ["x"]}, "command": {"resume": "x"}},
    ],
    ids=["resume-x", "resume-1", "resume-with-input"],
)
def test_resume_needs_a_thread(http: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(wait(http, body), 400, RESUME)


# ------------------------------------------------------------------------ configurable+context


@pytest.mark.parametrize(
    "configurable",
    [
        {"a": 1},
        {"a": None},
        {"thread_id": "x"},  # server-overwritten, but not stripped before the check
        {"langgraph_auth_user": 1, "a": 1},
    ],
    ids=json.dumps,
)
def test_configurable_and_context_together(
    http: httpx.Client, configurable: dict[str, Any]
) -> None:
    body = {**BASE, "config": {"configurable": configurable}, "context": {"b": 1}}
    assert_error(wait(http, body), 400, BOTH_CONFIGURABLE_AND_CONTEXT)


@pytest.mark.parametrize(
    ("configurable", "context"),
    [
        ({}, {"a": 1}),
        ({"a": 1}, {}),
        ({"langgraph_request_id": "x"}, None),
        ({"__after_seconds__": 1}, {"a": 1}),  # reserved keys are stripped before the check
        ({"__pregel_node_finished": 1}, {"b": 1}),
        ({"__context_provided__": 1}, {"b": 1}),
    ],
    ids=[
        "empty-configurable",
        "empty-context",
        "reserved-only",
        "after-seconds",
        "pregel-node-finished",
        "context-provided",
    ],
)
def test_configurable_and_context_not_both_set(
    http: httpx.Client, configurable: dict[str, Any], context: dict[str, Any] | None
) -> None:
    body: dict[str, Any] = {**BASE, "config": {"configurable": configurable}}
    if context is not None:
        body["context"] = context
    r = wait(http, body)
    assert r.status_code == 200, r.text
    assert r.json() == ECHO_OK


# -------------------------------------------------------------------------------- webhook policy

LONG = "http://10.0.0.1/"  # 16 characters


@pytest.mark.parametrize(
    ("webhook", "detail"),
    [
        ("http://localhost/x", "Webhook host blocked: localhost address"),
        ("HTTP://LocalHost/x", "Webhook host blocked: localhost address"),
        ("http://user@localhost/x", "Webhook host blocked: localhost address"),
        ("http://host.docker.internal/x", "Webhook host blocked: localhost address"),
        ("http://127.0.0.1:9/x", "Webhook host blocked: loopback IP range"),
        ("http://127.1/x", "Webhook host blocked: loopback IP range"),
        ("http://2130706433/x", "Webhook host blocked: loopback IP range"),
        ("http://169.254.169.254/x", "Webhook host blocked: blocked IP range"),
        ("http://169.254.169.254", "Webhook host blocked: blocked IP range"),
        ("http://0.0.0.0/x", "Webhook host blocked: blocked IP range"),
        ("http://0/x", "Webhook host blocked: blocked IP range"),
        ("http://[::1]/x", "Webhook host blocked: blocked IP range"),
        ("http://[::]/x", "Webhook host blocked: blocked IP range"),
        ("http://[fe80::1]/x", "Webhook host blocked: blocked IP range"),
        ("http://224.0.0.1/x", "Webhook host blocked: blocked IP range"),
        ("http://255.255.255.255/x", "Webhook host blocked: blocked IP range"),
        ("http://[::ffff:127.0.0.1]/x", "Webhook host blocked: blocked IP range"),
        ("http://[::ffff:10.0.0.1]/x", "Webhook host blocked: blocked IP range"),
        ("http://does-not-exist.invalid/x", "Webhook host blocked: DNS resolution failed"),
        ("ftp://10.0.0.1/x", "Webhook host blocked: scheme 'ftp' not allowed"),
        ("ftp://localhost/x", "Webhook host blocked: scheme 'ftp' not allowed"),
        ("http:///x", "Invalid webhook hostname ''"),
        ("http:x", "Invalid webhook hostname ''"),
        ("http:/x", "Invalid webhook hostname ''"),
        # the empty-host check comes before the scheme check
        ("ftp:///x", "Invalid webhook hostname ''"),
        ("mailto:a@b", "Invalid webhook hostname ''"),
        ("10.0.0.1/x", "Invalid webhook hostname ''"),
        ("/hook", LOOPBACK_RELATIVE),
        ("//10.0.0.1/x", LOOPBACK_RELATIVE),
        # the length limit comes first
        (LONG + "a" * 4081, "Webhook URL too long"),
        (LONG + "a" * 5000, "Webhook URL too long"),
        ("ftp://10.0.0.1/" + "a" * 5000, "Webhook URL too long"),
        ("/" + "a" * 5000, "Webhook URL too long"),
    ],
    ids=lambda v: v if len(v) < 60 else f"{v[:20]}...({len(v)})",
)
def test_webhook_policy(http: httpx.Client, webhook: str, detail: str) -> None:
    assert_error(wait(http, {**BASE, "webhook": webhook}), 422, detail)


@pytest.mark.parametrize(
    ("webhook", "detail"),
    [
        ("http://[bad", "Invalid IPv6 URL"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://10.0.0.1:abc/x", "Port could not be cast to integer value as 'abc'"),
        ("https://10.0.0.1:99999/x", "Port out of range 0-65535"),
    ],
)
def test_unparsable_webhook_is_a_400(http: httpx.Client, webhook: str, detail: str) -> None:
    assert_error(wait(http, {**BASE, "webhook": webhook}), 400, detail)


@pytest.mark.parametrize(
    "webhook",
    [
        LONG + "a" * 4080,  # exactly 4096 characters
        "http://10.255.255.1/hook",
        "HTTPS://10.0.0.1/x",
        "http://192.168.1.1/x",
        "http://172.16.0.1/x",
        "http://100.64.0.1/x",
        "http://[fc00::1]/x",
        "http://10.0.0.1/a b",
    ],
    ids=lambda v: v if len(v) < 60 else f"{v[:20]}...({len(v)})",
)
def test_private_webhooks_are_accepted(http: httpx.Client, webhook: str) -> None:
    r = wait(http, {**BASE, "webhook": webhook})
    assert r.status_code == 200, r.text
    assert r.json() == ECHO_OK


# -------------------------------------------------------------------------------- check order

ORDER_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "bad-assistant-before-checkpoint_id",
        {"assistant_id": "nope", "input": {}, "checkpoint_id": "x"},
        422,
        invalid_assistant("nope"),
    ),
    (
        "bad-assistant-before-resume",
        {"assistant_id": "nope", "command": {"resume": 1}},
        422,
        invalid_assistant("nope"),
    ),
    (
        "empty-assistant-before-resume",
        {"assistant_id": "", "command": {"resume": 1}},
        422,
        invalid_assistant(""),
    ),
    (
        "checkpoint_id-before-unknown-uuid",
        {"assistant_id": UNKNOWN_UUID, "input": {}, "checkpoint_id": "x"},
        422,
        "Invalid checkpoint ID",
    ),
    (
        "resume-before-unknown-uuid",
        {"assistant_id": UNKNOWN_UUID, "command": {"resume": 1}},
        400,
        RESUME,
    ),
    (
        "both-before-unknown-uuid",
        {
            **BASE,
            "assistant_id": UNKNOWN_UUID,
            "config": {"configurable": {"a": 1}},
            "context": {"b": 1},
        },
        400,
        BOTH_CONFIGURABLE_AND_CONTEXT,
    ),
    (
        "webhook-before-unknown-uuid",
        {**BASE, "assistant_id": UNKNOWN_UUID, "webhook": "http://localhost/x"},
        422,
        "Webhook host blocked: localhost address",
    ),
    (
        "unparsable-webhook-before-unknown-uuid",
        {**BASE, "assistant_id": UNKNOWN_UUID, "webhook": "http://[bad"},
        400,
        "Invalid IPv6 URL",
    ),
    (
        "checkpoint_id-before-resume",
        {"assistant_id": "hitl", "checkpoint_id": "x", "command": {"resume": 1}},
        422,
        "Invalid checkpoint ID",
    ),
    (
        "checkpoint_id-before-both",
        {**BASE, "checkpoint_id": "x", "config": {"configurable": {"a": 1}}, "context": {"b": 1}},
        422,
        "Invalid checkpoint ID",
    ),
    (
        "resume-before-both",
        {
            "assistant_id": "hitl",
            "command": {"resume": 1},
            "config": {"configurable": {"a": 1}},
            "context": {"b": 1},
        },
        400,
        RESUME,
    ),
    (
        "resume-before-webhook",
        {"assistant_id": "hitl", "command": {"resume": 1}, "webhook": "http://localhost/x"},
        400,
        RESUME,
    ),
    (
        "resume-before-unparsable-webhook",
        {"assistant_id": "hitl", "command": {"resume": 1}, "webhook": "http://[bad"},
        400,
        RESUME,
    ),
    (
        "both-before-webhook",
        {
            **BASE,
            "config": {"configurable": {"a": 1}},
            "context": {"b": 1},
            "webhook": "http://localhost/x",
        },
        400,
        BOTH_CONFIGURABLE_AND_CONTEXT,
    ),
    (
        "both-before-unparsable-webhook",
        {
            **BASE,
            "config": {"configurable": {"a": 1}},
            "context": {"b": 1},
            "webhook": "http://[bad",
        },
        400,
        BOTH_CONFIGURABLE_AND_CONTEXT,
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "detail"), [c[1:] for c in ORDER_CASES], ids=[c[0] for c in ORDER_CASES]
)
def test_check_order(http: httpx.Client, body: dict[str, Any], status: int, detail: str) -> None:
    assert_error(wait(http, body), status, detail)


# -------------------------------------------------------------------------------- routing


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(http: httpx.Client, method: str) -> None:
    r = http.request(method, "/runs/wait", json={} if method in ("PUT", "PATCH") else None)
    assert_error(r, 405, "Method Not Allowed")
    assert r.headers["allow"] == "POST"


def test_head_is_405_without_body(http: httpx.Client) -> None:
    r = http.head("/runs/wait")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.headers["content-type"] == "application/json"
    assert r.content == b""


def test_options_without_preflight_headers_is_405(http: httpx.Client) -> None:
    r = http.options("/runs/wait")
    assert_error(r, 405, "Method Not Allowed")
    assert r.headers["allow"] == "POST"


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("POST", "/nope/deeper")])
def test_unknown_path_is_404(http: httpx.Client, method: str, path: str) -> None:
    r = http.request(method, path, json={} if method == "POST" else None)
    assert_error(r, 404, "Not Found")


def test_trailing_slash_redirects(http: httpx.Client, url: str) -> None:
    r = http.post("/runs/wait/", json={"assistant_id": "echo", "input": {"messages": ["x"]}})
    assert r.status_code == 307
    assert r.headers["location"] == url + "/runs/wait"
    assert r.content == b""


def test_errors_carry_vary_origin(http: httpx.Client) -> None:
    r = wait(http, {"input": {}})
    assert r.status_code == 422
    assert r.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in r.headers
