"""/mcp: assistants as MCP tools, through the official `mcp` client, langchain-mcp-adapters and
raw JSON-RPC over httpx."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from langchain_mcp_adapters.client import MultiServerMCPClient
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import Server

ACCEPT = {"accept": "application/json, text/event-stream"}


def rpc(http: httpx.Client, method: str, params: dict | None = None, **headers: str) -> dict:
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params or {}}
    r = http.post("/mcp", json=body, headers={**ACCEPT, **headers})
    assert r.status_code == 200, r.text
    return r.json()


async def test_official_client_lists_and_calls_tools(url: str) -> None:
    async with (
        streamable_http_client(f"{url}/mcp") as (read, write, _),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        assert init.capabilities.tools is not None
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert tools["described"].description == "An echo graph"
        assert tools["echo"].description == "Tool based on the echo assistant"
        assert tools["MyNamedGraph"].title == "MyNamedGraph"
        chat = tools["chat"].inputSchema
        assert chat["properties"]["messages"]["type"] == "string"
        assert "messages" in chat["required"] and "$defs" not in chat

        done = await session.call_tool("described", {"messages": ["hi"]})
        assert not done.isError
        assert json.loads(done.content[0].text) == {"messages": ["hi", "hi"], "count": 1}
        said = await session.call_tool("chat", {"messages": "hello"})
        messages = json.loads(said.content[0].text)["messages"]
        assert [m["content"] for m in messages] == ["hello", "hello world"]
        failed = await session.call_tool("boom", {"messages": ["x"]})
        assert failed.isError and "kaboom" in failed.content[0].text


async def test_adapter_loads_an_assistant_as_a_langchain_tool(url: str) -> None:
    client = MultiServerMCPClient({"graphport": {"url": f"{url}/mcp", "transport": "http"}})
    tools = {t.name: t for t in await client.get_tools()}
    out = await tools["described"].ainvoke({"messages": ["yo"], "count": 4})
    text = out if isinstance(out, str) else out[0]["text"]
    assert json.loads(text) == {"messages": ["yo", "hi"], "count": 5}


def test_assistants_made_over_the_api_are_tools(http: httpx.Client) -> None:
    name = f"My Agent! {uuid.uuid4().hex[:6]} (é)"
    made = http.post("/assistants", json={"graph_id": "echo", "name": name}).json()
    twin = http.post("/assistants", json={"graph_id": "echo", "name": name}).json()
    tools = rpc(http, "tools/list")["result"]["tools"]
    mine = [t for t in tools if t["title"] == name]
    plain = name.replace(" ", "_").replace("!", "").replace("(é)", "")
    assert sorted(t["name"] for t in mine) == [plain, f"{plain}_{twin['assistant_id'][:8]}"]
    assert {t["description"] for t in mine} == {f"Tool based on the {name} assistant"}
    done = rpc(http, "tools/call", {"name": plain, "arguments": {"messages": ["a"]}})
    assert json.loads(done["result"]["content"][0]["text"])["count"] == 1
    http.delete(f"/assistants/{made['assistant_id']}")
    http.delete(f"/assistants/{twin['assistant_id']}")


def test_json_rpc_surface(http: httpx.Client) -> None:
    init = rpc(http, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}})
    assert init["result"]["protocolVersion"] == "2025-06-18"
    assert init["result"]["capabilities"] == {"tools": {"listChanged": False}}
    newest = rpc(http, "initialize", {"protocolVersion": "1999-01-01"})["result"]
    assert newest["protocolVersion"] == "2025-11-25"
    assert rpc(http, "ping") == {"jsonrpc": "2.0", "id": 7, "result": {}}
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert http.post("/mcp", json=note, headers=ACCEPT).status_code == 202
    assert rpc(http, "resources/list")["error"]["code"] == -32601
    unknown = rpc(http, "tools/call", {"name": "nope", "arguments": {}})
    assert unknown["error"] == {"code": -32602, "message": "Unknown tool: nope"}
    wrong = rpc(http, "tools/call", {"name": "described", "arguments": {"count": "many"}})
    assert wrong["error"]["code"] == -32602 and "count" in wrong["error"]["message"]
    assert rpc(http, "tools/call", {"name": "echo", "arguments": [1]})["error"]["code"] == -32602


def test_transport_errors(http: httpx.Client) -> None:
    assert http.get("/mcp").status_code == 405
    assert http.delete("/mcp").status_code == 404
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert http.post("/mcp", json=ping, headers={"accept": "text/html"}).status_code == 400
    bad = http.post("/mcp", content=b"{", headers=ACCEPT)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == -32700
    assert http.post("/mcp", json=[ping], headers=ACCEPT).status_code == 400
    old = {**ACCEPT, "mcp-protocol-version": "1900-01-01"}
    assert http.post("/mcp", json=ping, headers=old).status_code == 400


@pytest.mark.usefixtures("graphport_only")
def test_disable_mcp(tmp_path, server: Server) -> None:
    from tests.conftest import ROOT, start_server

    config = tmp_path / "langgraph.json"
    base = json.loads((ROOT / "tests" / "graphs" / "langgraph.json").read_text())
    graphs = {"echo": str(ROOT / "tests" / "graphs" / "graphs.py") + ":echo"}
    config.write_text(json.dumps({**base, "graphs": graphs, "http": {"disable_mcp": True}}))
    srv = start_server(tmp_path, config=config)
    try:
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        assert httpx.post(f"{srv.url}/mcp", json=ping, headers=ACCEPT).status_code == 404
    finally:
        srv.stop()
