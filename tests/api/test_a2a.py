"""/a2a/{assistant_id}: assistants as A2A agents, through the official a2a-sdk (1.x) client and
raw JSON-RPC (0.3 and 1.0 method names) over httpx."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.client.card_resolver import parse_agent_card
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, TaskState

from tests.conftest import Server


def call(http: httpx.Client, aid: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    r = http.post(f"/a2a/{aid}", json={"jsonrpc": "2.0", "id": 3, "method": method,
                                       "params": params})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


def text_message(text: str, **extra: Any) -> dict[str, Any]:
    return {"role": "user", "parts": [{"kind": "text", "text": text}], "messageId": "m", **extra}


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])["result"]


def sdk_message(text: str, context_id: str = "") -> SendMessageRequest:
    msg = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)])
    if context_id:
        msg.context_id = context_id
    return SendMessageRequest(message=msg)


async def test_sdk_client_streams_sends_and_gets(url: str) -> None:
    async with httpx.AsyncClient(timeout=30) as raw:
        streaming = await create_client(
            f"{url}/a2a/chat", client_config=ClientConfig(httpx_client=raw)
        )
        seen = [event async for event in streaming.send_message(sdk_message("hi"))]
        kinds = [e.WhichOneof("payload") for e in seen]
        assert kinds[0] == "task" and kinds[-2:] == ["artifact_update", "status_update"]
        assert seen[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
        assert seen[-2].artifact_update.artifact.parts[0].text == "hello world"
        tokens = [e.status_update.status.message.parts[0].text for e in seen[1:-2]
                  if e.status_update.status.HasField("message")]  # fmt: skip
        assert "".join(tokens) == "hello world"
        context = seen[0].task.context_id

        plain = await create_client(
            f"{url}/a2a/chat", client_config=ClientConfig(httpx_client=raw, streaming=False)
        )
        [reply] = [e async for e in plain.send_message(sdk_message("again", context))]
        assert reply.task.context_id == context  # the same thread
        assert reply.task.status.state == TaskState.TASK_STATE_COMPLETED
        assert [m.parts[0].text for m in reply.task.history] == [
            "hi", "hello world", "again", "hello world"]  # fmt: skip
        got = await plain.get_task(GetTaskRequest(id=reply.task.id))
        assert got.status.state == TaskState.TASK_STATE_COMPLETED


def test_agent_card_urls(http: httpx.Client) -> None:
    card = http.get("/a2a/chat").json()
    aid = card["url"].rsplit("/", 1)[1]
    for path in (f"/a2a/{aid}/.well-known/agent-card.json", f"/a2a/{aid}/.well-known/agent.json",
                 f"/.well-known/agent-card.json?assistant_id={aid}"):  # fmt: skip
        assert http.get(path).json() == card
    parsed = parse_agent_card(dict(card))
    assert parsed.name == "chat" and parsed.capabilities.streaming
    assert parsed.supported_interfaces[0].url.endswith(f"/a2a/{aid}")
    assert http.get("/a2a/described").json()["description"] == "An echo graph"
    assert http.get("/.well-known/agent-card.json").status_code == 400
    assert http.get(f"/a2a/{uuid.uuid4()}").status_code == 404


def test_data_parts_context_and_tasks(http: httpx.Client) -> None:
    context = f"my context {uuid.uuid4()}"  # not a UUID: kept as the client chose it
    data = {"role": "user", "parts": [{"kind": "data", "data": {"messages": ["a"], "count": 1}}],
            "messageId": "m1", "contextId": context}  # fmt: skip
    task = call(http, "described", "message/send", {"message": data})["result"]
    assert task["contextId"] == context and task["status"]["state"] == "completed"
    assert task["artifacts"][0]["parts"] == [
        {"kind": "data", "data": {"messages": ["a", "hi"], "count": 2}}]  # fmt: skip
    again = call(http, "described", "message/send", {"message": data})["result"]
    out = again["artifacts"][0]["parts"][0]["data"]
    assert out["messages"] == ["a", "hi", "a", "hi"]  # the same thread

    got = call(http, "described", "GetTask", {"id": task["id"]})["result"]
    assert got["status"]["state"] == "TASK_STATE_COMPLETED" and "kind" not in got
    listed = call(http, "described", "ListTasks", {"contextId": context})["result"]
    assert [t["id"] for t in listed["tasks"]] == [again["id"], task["id"]]
    late = call(http, "described", "tasks/cancel", {"id": task["id"]})
    assert late["error"]["code"] == -32002


def test_errors(http: httpx.Client) -> None:
    failed = call(http, "boom", "message/send",
                  {"message": {"role": "user", "messageId": "m",
                               "parts": [{"kind": "data", "data": {"messages": []}}]}})  # fmt: skip
    status = failed["result"]["status"]
    assert status["state"] == "failed" and "kaboom" in status["message"]["parts"][0]["text"]
    assert call(http, "chat", "tasks/get", {"id": "x:y"})["error"]["code"] == -32001
    assert call(http, "chat", "foo/bar", {})["error"]["code"] == -32601
    assert call(http, "chat", "message/send", {})["error"]["code"] == -32602
    empty = call(http, "chat", "message/send", {"message": {"role": "user", "parts": []}})
    assert empty["error"]["code"] == -32602
    assert call(http, "described", "message/send", {"message": text_message("hi")})["error"][
        "code"] == -32005  # fmt: skip
    gone = call(http, str(uuid.uuid4()), "message/send", {"message": text_message("hi")})
    assert gone["error"]["code"] == -32602
    slash = http.post("/a2a/chat/", json={"jsonrpc": "2.0", "id": 1, "method": "foo/bar"})
    assert slash.status_code == 200 and slash.json()["error"]["code"] == -32601
    bad = http.post("/a2a/chat", content=b"{")
    assert bad.status_code == 200 and bad.json()["error"]["code"] == -32700


def test_cancel_ends_the_stream_canceled(http: httpx.Client, url: str) -> None:
    params = {"message": {"role": "user", "messageId": "m",
                          "parts": [{"kind": "data", "data": {"sleep": 60}}]}}  # fmt: skip
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": params}
    with (
        httpx.Client(base_url=url, timeout=60) as streamer,
        streamer.stream("POST", "/a2a/sleepy", json=body) as response,
    ):
        stream = events(response)
        first = next(stream)
        assert first["status"]["state"] == "submitted"
        assert next(stream)["status"]["state"] == "working"
        cancelled = call(http, "sleepy", "tasks/cancel", {"id": first["id"]})["result"]
        assert cancelled["status"]["state"] == "canceled"
        rest = list(stream)
    assert rest[-1]["status"]["state"] == "canceled" and rest[-1]["final"] is True


@pytest.mark.usefixtures("graphport_only")
def test_disable_a2a(tmp_path, server: Server) -> None:
    from tests.conftest import ROOT, start_server

    config = tmp_path / "langgraph.json"
    graphs = {"echo": str(ROOT / "tests" / "graphs" / "graphs.py") + ":echo"}
    config.write_text(json.dumps({"graphs": graphs, "http": {"disable_a2a": True}}))
    srv = start_server(tmp_path, config=config)
    try:
        assert httpx.get(f"{srv.url}/a2a/echo").status_code == 404
    finally:
        srv.stop()


def test_an_interrupt_asks_for_input_and_the_next_message_answers(http: httpx.Client) -> None:
    context = str(uuid.uuid4())
    ask = {"role": "user", "messageId": "m", "contextId": context,
           "parts": [{"kind": "data", "data": {"messages": ["q"]}}]}  # fmt: skip
    waiting = call(http, "hitl", "message/send", {"message": ask})["result"]
    assert waiting["status"]["state"] == "input-required"
    assert waiting["status"]["message"]["parts"][0]["data"][0]["value"] == "what?"
    answer = text_message("yes", contextId=context)
    done = call(http, "hitl", "message/send", {"message": answer})["result"]
    assert done["status"]["state"] == "completed"
    assert done["artifacts"][0]["parts"][0]["data"] == {"messages": ["q", "yes"]}
