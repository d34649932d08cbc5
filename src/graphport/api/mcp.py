"""/mcp: every assistant as a tool over MCP's streamable HTTP transport.

Stateless, as the reference serves it: no sessions (GET 405, DELETE 404), every POST carries
one JSON-RPC message answered with JSON. `tools/call` runs the assistant statelessly and
returns its output as JSON text (the reference sends a Python repr). Beyond the reference,
arguments are validated against the tool's input schema, and tool names are unique (an
assistant whose name another, older one already gives is suffixed with its id).
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import orjson
from starlette.requests import Request
from starlette.responses import Response

from graphport import __version__, errors
from graphport.api import jsonrpc
from graphport.api.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, RpcError
from graphport.api.responses import JSONResponse
from graphport.api.state import engine_of, settings_of
from graphport.engine import agents
from graphport.engine.runs import RunEngine
from graphport.models import Assistant

PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
ANNOTATIONS = {
    "readOnlyHint": False,
    "destructiveHint": False,
    "idempotentHint": False,
    "openWorldHint": True,
}
USER_MESSAGE = {
    "type": "string",
    "title": "Messages",
    "description": "The user message to send to the agent.",
}
PAGE = 100


def tool_name(name: str) -> str:
    """An assistant name as an MCP tool name: whitespace to `_`, other characters dropped."""
    return re.sub(r"[^A-Za-z0-9_.-]", "", re.sub(r"\s", "_", name))[:128]


def _tool_schema(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The tool's inputSchema and whether its `messages` is the user's text (a chat graph)."""
    if not agents.is_message_list(schema):
        return schema, False
    out = {k: v for k, v in schema.items() if k != "$defs"}
    out["properties"] = {**schema["properties"], "messages": USER_MESSAGE}
    out["required"] = sorted({*(schema.get("required") or []), "messages"})
    if b"$ref" in orjson.dumps(out):  # other fields still use the definitions
        out["$defs"] = schema["$defs"]
    return out, True


async def _tools(engine: RunEngine) -> list[tuple[dict[str, Any], Assistant, bool]]:
    """(tool, its assistant, chat?) for every assistant with an input schema, newest first."""
    taken: set[str] = set()
    tools = []
    for assistant in await agents.all_assistants(engine):
        schema = await agents.input_schema(engine, assistant)
        if schema is None:
            continue
        name = tool_name(assistant["name"]) or "assistant"
        if name in taken:
            name = f"{name[:119]}_{assistant['assistant_id'][:8]}"
        taken.add(name)
        input_schema, chat = _tool_schema(schema)
        tool = {
            "name": name,
            "title": assistant["name"],
            "description": assistant.get("description")
            or f"Tool based on the {assistant['name']} assistant",
            "inputSchema": input_schema,
            "annotations": ANNOTATIONS,
        }
        tools.append((tool, assistant, chat))
    return tools[::-1]


def _initialize(params: dict[str, Any]) -> dict[str, Any]:
    asked = params.get("protocolVersion")
    return {
        "protocolVersion": asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1],
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "graphport", "title": "graphport", "version": __version__},
    }


async def _list_tools(engine: RunEngine, params: dict[str, Any]) -> dict[str, Any]:
    cursor = params.get("cursor") or "0"
    if not (isinstance(cursor, str) and cursor.isdigit()):
        raise RpcError(INVALID_PARAMS, f"Invalid cursor: {cursor!r}")
    start = int(cursor)
    tools = [tool for tool, _, _ in await _tools(engine)]
    page: dict[str, Any] = {"tools": tools[start : start + PAGE]}
    if start + PAGE < len(tools):
        page["nextCursor"] = str(start + PAGE)
    return page


async def _call_tool(engine: RunEngine, params: dict[str, Any]) -> dict[str, Any]:
    name, arguments = params.get("name"), params.get("arguments")
    if not isinstance(name, str):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'name' (the tool) is required")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'arguments' must be an object")
    found = [(tool, a, chat) for tool, a, chat in await _tools(engine) if tool["name"] == name]
    if not found:
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
    tool, assistant, chat = found[0]
    try:
        jsonschema_rs.validator_for(tool["inputSchema"]).validate(arguments)
    except jsonschema_rs.ValidationError as exc:
        raise RpcError(INVALID_PARAMS, f"Invalid arguments for tool {name}: {exc}") from None
    graph_input = dict(arguments)
    if chat:
        graph_input["messages"] = [{"role": "user", "content": arguments["messages"]}]
    _, done, _ = await agents.start_run(engine, assistant, graph_input)
    output, failure = agents.run_output(await done)
    if failure is not None:
        return {"isError": True, "content": [{"type": "text", "text": failure}]}
    text = orjson.dumps(output, default=str).decode()
    return {"content": [{"type": "text", "text": text}]}


async def _dispatch(engine: RunEngine, method: str, params: dict[str, Any]) -> Any:
    if method == "initialize":
        return _initialize(params)
    if method == "ping":
        return {}
    if method == "tools/list":
        return await _list_tools(engine, params)
    if method == "tools/call":
        return await _call_tool(engine, params)
    raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")


async def post(request: Request) -> Response:
    accept = request.headers.get("accept", "")
    if not any(kind in accept for kind in ("application/json", "text/event-stream", "*/*")):
        return JSONResponse(
            {"detail": "Accept header must include application/json or text/event-stream"}, 400
        )
    version = request.headers.get("mcp-protocol-version")
    if version is not None and version not in PROTOCOL_VERSIONS:
        return JSONResponse({"detail": f"Unsupported MCP-Protocol-Version: {version}"}, 400)
    settings = settings_of(request)
    try:
        message = await jsonrpc.read_message(request, settings.max_body_bytes, status=400)
    except RpcError as exc:
        return jsonrpc.error_response(None, exc)
    if "method" not in message or "id" not in message:  # a notification, or a response
        return Response(status_code=202)
    request_id, method = message["id"], message["method"]
    try:
        params = jsonrpc.params_of(message)
        value = await _dispatch(engine_of(request), str(method), params)
    except RpcError as exc:
        return jsonrpc.error_response(request_id, exc)
    except errors.GraphportError as exc:
        return jsonrpc.error_response(request_id, jsonrpc.from_error(exc))
    return JSONResponse(jsonrpc.result(request_id, value))


async def get(request: Request) -> Response:
    """No server-initiated stream: nothing is ever sent to a client unasked."""
    return JSONResponse(
        {"detail": "Method Not Allowed"}, status_code=405, headers={"allow": "POST"}
    )


async def delete(request: Request) -> Response:
    """No sessions to end."""
    return JSONResponse({"detail": "Not Found"}, status_code=404)
