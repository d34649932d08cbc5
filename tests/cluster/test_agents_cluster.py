"""MCP and A2A across processes: a tool or an agent asked on one process, streamed on it and
cancelled or listed from another."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from tests.cluster.conftest import Cluster


def _rpc(url: str, path: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    headers = {"accept": "application/json, text/event-stream"}
    r = httpx.post(url + path, json=body, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])["result"]


def test_an_a2a_stream_on_one_process_is_cancelled_from_another(cluster: Cluster) -> None:
    first, second = cluster.start(2)
    params = {"message": {"role": "user", "messageId": "m",
                          "parts": [{"kind": "data", "data": {"sleep": 30}}]}}  # fmt: skip
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": params}
    with (
        httpx.Client(base_url=first.url, timeout=60) as client,
        client.stream("POST", "/a2a/steps", json=body) as response,
    ):
        stream = _events(response)
        task = next(stream)
        assert task["status"]["state"] == "submitted"
        assert next(stream)["status"]["state"] == "working"
        got = _rpc(second.url, "/a2a/steps", "tasks/get", {"id": task["id"]})["result"]
        assert got["status"]["state"] == "working"
        cancelled = _rpc(second.url, "/a2a/steps", "tasks/cancel", {"id": task["id"]})
        assert cancelled["result"]["status"]["state"] == "canceled"
        rest = list(stream)
    assert rest[-1]["status"]["state"] == "canceled" and rest[-1]["final"] is True


def test_an_assistant_made_on_one_process_is_a_tool_on_another(cluster: Cluster) -> None:
    first, second = cluster.start(2)
    made = httpx.post(first.url + "/assistants", json={"graph_id": "steps", "name": "far tool"})
    assert made.status_code == 200
    listed = _rpc(second.url, "/mcp", "tools/list", {})["result"]["tools"]
    [tool] = [t for t in listed if t["title"] == "far tool"]
    called = _rpc(second.url, "/mcp", "tools/call", {"name": tool["name"], "arguments": {}})
    text = called["result"]["content"][0]["text"]
    assert json.loads(text)["steps"] == ["first", "second"]
