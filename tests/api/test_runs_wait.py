"""POST /runs/wait: bodies and headers of the outcomes (spec §2.3, §2.4)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ECHO_ID = "046b5dc7-2108-582c-9c6c-31d556d138f0"


def wait(http: httpx.Client, **body: object) -> httpx.Response:
    return http.post("/runs/wait", json=body)


def test_sdk_wait_returns_final_values(url: str) -> None:
    client = get_sync_client(url=url)
    out = client.runs.wait(None, "echo", input={"messages": ["x"]})
    assert out == {"messages": ["x", "hi"], "count": 1}


async def test_async_sdk_wait_reports_the_created_run(url: str) -> None:
    client = get_client(url=url)
    created: list[dict[str, str]] = []
    out = await client.runs.wait(
        None, "echo", input={"messages": ["y"]}, on_run_created=created.append
    )
    assert out == {"messages": ["y", "hi"], "count": 1}
    assert len(created) == 1 and re.fullmatch(UUID_RE, created[0]["run_id"])


def test_headers_point_at_the_run(http: httpx.Client) -> None:
    r = wait(http, assistant_id="echo", input={"messages": ["x"]})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["transfer-encoding"] == "chunked"
    m = re.fullmatch(f"/threads/({UUID_RE})/runs/({UUID_RE})", r.headers["content-location"])
    assert m, r.headers["content-location"]
    assert r.headers["location"] == r.headers["content-location"] + "/join"
    assert uuid.UUID(m.group(1)).version == 7 and uuid.UUID(m.group(2)).version == 7


def test_assistant_uuid_and_graph_id_are_the_same_assistant(http: httpx.Client) -> None:
    a = wait(http, assistant_id=ECHO_ID, input={"messages": ["x"]}).json()
    b = wait(http, assistant_id="echo", input={"messages": ["x"]}).json()
    assert a == b == {"messages": ["x", "hi"], "count": 1}


def test_graph_error_is_a_200_with_error_body(http: httpx.Client) -> None:
    r = wait(http, assistant_id="boom", input={"messages": ["x"]})
    assert r.status_code == 200
    assert r.json() == {"__error__": {"error": "ValueError", "message": "kaboom"}}


def test_sdk_raises_on_graph_error(url: str) -> None:
    client = get_sync_client(url=url)
    with pytest.raises(Exception, match="ValueError: kaboom"):
        client.runs.wait(None, "boom", input={"messages": ["x"]})


def test_interrupt_body_keeps_values(http: httpx.Client) -> None:
    body = wait(http, assistant_id="hitl", input={"messages": ["x"]}).json()
    assert body["messages"] == ["x"]
    [item] = body["__interrupt__"]
    assert item["value"] == "what?"
    assert re.fullmatch("[0-9a-f]{32}", item["id"])
    assert item["response_schema"] is None


def test_parallel_interrupts_are_all_reported_once(
    http: httpx.Client, graphport_only: None
) -> None:
    # §7 #3: graphport de-duplicates interrupts seen in both values and updates
    body = wait(
        http,
        assistant_id="parallel_hitl",
        input={"messages": ["x"]},
        stream_mode=["values", "updates"],
    ).json()
    values = sorted(i["value"] for i in body["__interrupt__"])
    assert values == ["qa", "qb"]


def test_missing_input_fails_the_run(http: httpx.Client) -> None:
    body = wait(http, assistant_id="echo").json()
    assert body == {
        "__error__": {"error": "EmptyInputError", "message": "Received no input for __start__"}
    }


def test_recursion_limit_from_config(http: httpx.Client) -> None:
    body = wait(
        http, assistant_id="loop", input={"messages": []}, config={"recursion_limit": 3}
    ).json()
    assert body["__error__"]["error"] == "GraphRecursionError"
    assert body["__error__"]["message"].startswith("Recursion limit of 3 reached")


def test_command_goto_and_send(http: httpx.Client) -> None:
    assert wait(http, assistant_id="router", command={"goto": "b"}).json()["messages"] == [
        "a",
        "b:None",
    ]
    sent = wait(http, assistant_id="router", command={"goto": {"node": "b", "input": {"arg": 42}}})
    assert sent.json()["messages"] == ["a", "b:42"]
    two = wait(
        http,
        assistant_id="router",
        command={"goto": [{"node": "b", "input": {"arg": 1}}, {"node": "b", "input": {"arg": 2}}]},
    )
    assert two.json()["messages"] == ["a", "b:1", "b:2"]


def test_command_replaces_input(http: httpx.Client) -> None:
    out = wait(http, assistant_id="router", input={"messages": ["ignored"]}, command={"goto": "c"})
    assert out.json()["messages"] == ["a", "c"]


def test_chat_messages_are_serialised_as_dicts(http: httpx.Client) -> None:
    body = wait(http, assistant_id="chat", input={"messages": [{"role": "user", "content": "hi"}]})
    messages = body.json()["messages"]
    assert [m["type"] for m in messages] == ["human", "ai"]
    assert messages[1]["content"] == "hello world"
    assert {"additional_kwargs", "response_metadata", "id", "tool_calls"} <= messages[1].keys()


@pytest.mark.parametrize("mode", ["updates", ["updates"], ["custom", "debug"], "events"])
def test_body_has_final_values_whatever_stream_mode(
    http: httpx.Client, mode: object, graphport_only: None
) -> None:
    # §7 #4: graphport tracks values for the result whatever the stream_mode (reference: {})
    body = wait(http, assistant_id="echo", input={"messages": ["x"]}, stream_mode=mode).json()
    assert body == {"messages": ["x", "hi"], "count": 1}


def test_subgraph_streaming_does_not_change_the_root_result(http: httpx.Client) -> None:
    body = wait(
        http, assistant_id="nested", input={"messages": ["x"]}, stream_subgraphs=True
    ).json()
    assert body["messages"][0] == "x" and body["messages"][-1] == "sub"


def test_every_graph_entry_form_runs(http: httpx.Client) -> None:
    for graph_id in ["fcfg", "frt", "facm", "builder", "named", "described"]:
        r = wait(http, assistant_id=graph_id, input={"messages": ["x"]})
        assert r.status_code == 200, graph_id
        assert "__error__" not in r.json(), (graph_id, r.json())


def test_factory_sees_the_run_config(http: httpx.Client) -> None:
    body = wait(
        http, assistant_id="fcfg", input={"messages": []}, config={"configurable": {"tag": "T1"}}
    ).json()
    assert body["messages"] == ["factory-cfg:T1"]
