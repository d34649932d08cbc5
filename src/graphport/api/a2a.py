"""/a2a/{assistant_id}: every assistant as an Agent2Agent agent (JSON-RPC over HTTP).

A context is a thread (a client's own contextId is kept: a non-UUID one names a thread derived
from it), a task is one run on it (`<contextId>:<run_id>`). Methods answer under their 0.3
names (`message/send`, ...) and their 1.0 names (`SendMessage`, ...), each in its version's
shapes; errors are JSON-RPC errors with HTTP 200, as the spec has them. Beyond the reference,
1.0 stream events are wrapped as a2a-sdk 1.x reads them, and a cancelled task's stream ends
`canceled`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from graphport import __version__, errors
from graphport.api import a2a_shapes as shapes
from graphport.api import jsonrpc
from graphport.api.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, RpcError
from graphport.api.responses import JSONResponse
from graphport.api.state import engine_of, settings_of
from graphport.engine import agents
from graphport.engine.runs import RunEngine
from graphport.events import END
from graphport.models import Assistant, Run

TASK_NOT_FOUND, NOT_CANCELABLE, PUSH_NOT_SUPPORTED, CONTENT_NOT_SUPPORTED = (
    -32001, -32002, -32003, -32005)  # fmt: skip
V1_METHODS = {"SendMessage": "message/send", "SendStreamingMessage": "message/stream",
              "GetTask": "tasks/get", "CancelTask": "tasks/cancel", "ListTasks": "tasks/list",
              "GetExtendedAgentCard": "agent/getAuthenticatedExtendedCard"}  # fmt: skip
PUSH_METHODS = ("tasks/pushNotificationConfig/", "TaskPushNotificationConfig")
CONTEXT_NAMESPACE = uuid.UUID("6f1c8d2e-5a4b-4c3d-9e8f-a2a000000000")


def thread_of(context_id: str) -> str:
    """The thread of a context: itself when a UUID, else one derived from it."""
    try:
        return str(uuid.UUID(context_id))
    except ValueError:
        return str(uuid.uuid5(CONTEXT_NAMESPACE, context_id))


async def _assistant(engine: RunEngine, assistant_id: str) -> Assistant:
    try:
        assistant = await agents.find_assistant(engine, assistant_id)
    except Exception as exc:
        raise RpcError(INVALID_PARAMS, f"Failed to get assistant '{assistant_id}': {exc}") from exc
    if assistant is None:
        raise RpcError(INVALID_PARAMS, f"Assistant '{assistant_id}' not found")
    return assistant


# -- agent card --------------------------------------------------------------------------------


async def _card(request: Request, assistant: Assistant) -> dict[str, Any]:
    engine = engine_of(request)
    schema = await agents.input_schema(engine, assistant)
    base = settings_of(request).public_url or str(request.base_url)
    url = f"{base.rstrip('/')}/a2a/{assistant['assistant_id']}"
    chat = agents.is_message_list(schema)
    modes = ["text/plain", "application/json"] if chat else ["application/json"]
    description = assistant.get("description") or f"{assistant['name']} assistant"
    skill = {"id": f"{assistant['assistant_id']}-main", "name": f"{assistant['name']} Capabilities",
             "description": description, "tags": ["assistant", "langgraph"], "examples": [],
             "inputModes": modes, "outputModes": modes,
             "metadata": {"inputSchema": schema or {}}}  # fmt: skip
    return {
        "name": assistant["name"],
        "description": description,
        "url": url,
        "preferredTransport": "JSONRPC",
        "protocolVersion": "0.3.0",
        "supportedInterfaces": [
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
        ],
        "capabilities": {"streaming": True, "pushNotifications": False},
        "defaultInputModes": modes,
        "defaultOutputModes": modes,
        "skills": [skill],
        "version": __version__,
    }


async def agent_card(request: Request) -> Response:
    """The card at /a2a/{id}, its .well-known paths and /.well-known/agent-card.json."""
    assistant_id = request.path_params.get("assistant_id") or request.query_params.get(
        "assistant_id"
    )
    if not assistant_id:
        return JSONResponse({"detail": "Missing required query parameter: assistant_id"}, 400)
    try:
        assistant = await _assistant(engine_of(request), assistant_id)
    except RpcError as exc:
        return JSONResponse({"detail": exc.message}, 404 if "not found" in exc.message else 422)
    return JSONResponse(await _card(request, assistant))


# -- tasks -------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return ""


def _chat_history(values: dict[str, Any], context_id: str, tid: str) -> list[dict[str, Any]]:
    out = []
    for m in values.get("messages") or []:
        if isinstance(m, dict) and m.get("type") in ("human", "ai"):
            role = "user" if m["type"] == "human" else "agent"
            parts = [shapes.text_part(_text_of(m.get("content")))]
            out.append(shapes.message(role, parts, context_id, tid, m.get("id")))
    return out


async def _task(
    engine: RunEngine, assistant: Assistant, run: Run, context_id: str, result: bytes | None
) -> dict[str, Any]:
    """The task of a run: its state, history and (once done) its response artifact."""
    tid = shapes.task_id(context_id, run["run_id"])
    state = shapes.STATES.get(run["status"], "working")
    chat = agents.is_message_list(await agents.input_schema(engine, assistant))
    asked = (run.get("metadata") or {}).get("a2a_message")
    history = (
        [shapes.message("user", asked["parts"], context_id, tid, asked.get("messageId"))]
        if isinstance(asked, dict)
        else []
    )
    if result is None or state not in shapes.TERMINAL:
        return shapes.task(context_id, tid, shapes.status(state), history)
    output, failure = agents.run_output(result)
    if failure is not None:
        state = "canceled" if failure.startswith("UserInterrupt") else "failed"
        note = shapes.message("agent", [shapes.text_part(failure)], context_id, tid)
        return shapes.task(context_id, tid, shapes.status(state, note), history)
    values = output if isinstance(output, dict) else {}
    if chat:
        history = _chat_history(values, context_id, tid)
        replies = [m for m in history if m["role"] == "agent"]
        parts = replies[-1]["parts"] if replies else [shapes.text_part("")]
    else:
        parts = [shapes.data_part(output)]
    if values.get("__interrupt__"):
        note = shapes.message("agent", [shapes.data_part(values["__interrupt__"])], context_id, tid)
        return shapes.task(context_id, tid, shapes.status("input-required", note), history)
    art = shapes.artifact(assistant["assistant_id"], parts)
    return shapes.task(context_id, tid, shapes.status("completed"), history, [art])


async def _graph_input(
    engine: RunEngine, assistant: Assistant, text: str, data: dict[str, Any]
) -> dict[str, Any]:
    """A chat graph takes the text as the user's message; others take the data parts."""
    if agents.is_message_list(await agents.input_schema(engine, assistant)) and text:
        return {**data, "messages": [{"role": "user", "content": text}]}
    if data:
        return data
    needed = "This assistant takes a data part: an object matching its input schema"
    raise RpcError(CONTENT_NOT_SUPPORTED, needed)


async def _start(
    engine: RunEngine, assistant: Assistant, params: dict[str, Any], *, subscribe: bool
) -> tuple[str, Run, Any, Any]:
    """Start the run a `message/send` or `message/stream` asks for: (contextId, run, its
    result future, its event queue)."""
    msg = params.get("message")
    if not isinstance(msg, dict):
        raise RpcError(INVALID_PARAMS, "Missing or invalid 'message' in params")
    if not msg.get("parts"):
        raise RpcError(INVALID_PARAMS, "Message must contain at least one part")
    msg = shapes.normalise_message(msg)
    text, data = shapes.incoming_parts(msg)
    context_id = msg.get("contextId")
    if not isinstance(context_id, str) or not context_id:
        context_id = str(uuid.uuid4())
    thread_id = thread_of(context_id)
    resume = None
    if await agents.waiting_on_interrupt(engine, thread_id):  # an input-required task: answered
        resume = {"resume": data or text}
    graph_input = await _graph_input(engine, assistant, text, data) if resume is None else None
    asked = {"parts": msg["parts"], "messageId": msg.get("messageId")}
    run, done, queue = await agents.start_run(
        engine, assistant, graph_input, thread_id=thread_id, subscribe=subscribe,
        metadata={"a2a_message": asked, "a2a_context_id": context_id}, command=resume,
    )  # fmt: skip
    return context_id, run, done, queue


async def _send(engine: RunEngine, assistant: Assistant, params: dict[str, Any]) -> Any:
    context_id, run, done, _ = await _start(engine, assistant, params, subscribe=False)
    result = await done
    ended = await agents.get_run(engine, run["thread_id"], run["run_id"]) or run
    return await _task(engine, assistant, ended, context_id, result)


def _parse_task_id(params: dict[str, Any]) -> tuple[str, str, str]:
    raw = params.get("id") or params.get("name")  # 1.0 may name it `tasks/<id>`
    if not isinstance(raw, str) or ":" not in raw:
        raise RpcError(TASK_NOT_FOUND, f"Task not found: {raw}")
    raw = raw.removeprefix("tasks/")
    context_id, _, run_id = raw.rpartition(":")
    return raw, context_id, run_id


async def _find(engine: RunEngine, params: dict[str, Any]) -> tuple[str, Run]:
    raw, context_id, run_id = _parse_task_id(params)
    try:
        run = await agents.get_run(engine, thread_of(context_id), str(uuid.UUID(run_id)))
    except ValueError:
        run = None
    if run is None:
        raise RpcError(TASK_NOT_FOUND, f"Task not found: {raw}")
    return context_id, run


def _trim(task: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    length = params.get("historyLength")
    if isinstance(length, int) and length >= 0:
        task["history"] = task["history"][-length:] if length else []
    return task


async def _get(engine: RunEngine, assistant: Assistant, params: dict[str, Any]) -> Any:
    context_id, run = await _find(engine, params)
    result = await agents.run_result(engine, run["run_id"])
    return _trim(await _task(engine, assistant, run, context_id, result), params)


async def _cancel(engine: RunEngine, assistant: Assistant, params: dict[str, Any]) -> Any:
    context_id, run = await _find(engine, params)
    if run["status"] not in ("pending", "running"):
        raise RpcError(NOT_CANCELABLE, "Task is not cancelable in its current state")
    await engine.cancel_run(run, "interrupt", reason="cancelled over A2A")
    tid = shapes.task_id(context_id, run["run_id"])
    return shapes.task(context_id, tid, shapes.status("canceled"), [])


async def _list(engine: RunEngine, assistant: Assistant, params: dict[str, Any]) -> Any:
    size = params.get("pageSize")
    size = size if isinstance(size, int) and 0 < size <= 100 else 50
    context_id = params.get("contextId")
    if isinstance(context_id, str) and context_id:
        contexts = [(context_id, thread_of(context_id))]
    else:
        threads = await agents.threads_of(engine, assistant["assistant_id"], size)
        contexts = [(t, t) for t in threads]
    tasks: list[dict[str, Any]] = []
    for ctx, thread_id in contexts:
        for run in await agents.runs_of(engine, thread_id, size):
            if run["assistant_id"] != assistant["assistant_id"] or len(tasks) >= size:
                continue
            ctx = (run.get("metadata") or {}).get("a2a_context_id") or ctx
            result = await agents.run_result(engine, run["run_id"])
            tasks.append(_trim(await _task(engine, assistant, run, ctx, result), params))
    return {"tasks": tasks, "nextPageToken": "", "pageSize": size, "totalSize": len(tasks)}


def _token(event: Any) -> str:
    """The text an AI message chunk of a `messages` event adds ("" for anything else)."""
    if not event.event.startswith("messages"):
        return ""
    try:
        chunk = orjson.loads(event.data)[0]
    except (orjson.JSONDecodeError, IndexError, KeyError, TypeError):
        return ""
    if not isinstance(chunk, dict) or chunk.get("type") not in ("AIMessageChunk", "ai"):
        return ""
    return _text_of(chunk.get("content"))


async def _stream_events(
    engine: RunEngine, assistant: Assistant, context_id: str, run: Run, done: Any, queue: Any
) -> AsyncIterator[dict[str, Any]]:
    """submitted -> working (with each token of a chat reply) -> artifact -> the final state."""
    tid = shapes.task_id(context_id, run["run_id"])
    asked = run["metadata"]["a2a_message"]
    first = shapes.message("user", asked["parts"], context_id, tid, asked.get("messageId"))
    yield shapes.task(context_id, tid, shapes.status("submitted"), [first])
    yield shapes.status_update(context_id, tid, shapes.status("working"))
    try:
        while (event := await queue.get()) is not END:
            if text := _token(event):
                note = shapes.message("agent", [shapes.text_part(text)], context_id, tid)
                yield shapes.status_update(context_id, tid, shapes.status("working", note))
    finally:
        engine.unsubscribe(run["run_id"], queue)
    result = await done
    ended = await agents.get_run(engine, run["thread_id"], run["run_id"]) or run
    task = await _task(engine, assistant, ended, context_id, result)
    for art in task.get("artifacts") or []:
        yield shapes.artifact_update(context_id, tid, art)
    yield shapes.status_update(context_id, tid, task["status"])


async def _stream(
    engine: RunEngine, assistant: Assistant, params: dict[str, Any], request_id: Any, v1: bool
) -> Response:
    context_id, run, done, queue = await _start(engine, assistant, params, subscribe=True)

    async def frames() -> AsyncIterator[bytes]:
        async for item in _stream_events(engine, assistant, context_id, run, done, queue):
            body = shapes.to_v1(item, wrap=True) if v1 else item
            yield (
                b"event: message\r\ndata: "
                + orjson.dumps(jsonrpc.result(request_id, body), default=str)
                + b"\r\n\r\n"
            )

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)


HANDLERS = {"message/send": _send, "tasks/get": _get, "tasks/cancel": _cancel,
            "tasks/list": _list}  # fmt: skip


async def rpc(request: Request) -> Response:
    engine = engine_of(request)
    try:
        limit = settings_of(request).max_body_bytes
        message = await jsonrpc.read_message(request, limit, status=200)
    except RpcError as exc:
        return jsonrpc.error_response(None, exc)
    request_id, method = message.get("id"), str(message.get("method"))
    v1 = method in V1_METHODS
    name = V1_METHODS.get(method, method)
    try:
        params = jsonrpc.params_of(message)
        assistant = await _assistant(engine, request.path_params["assistant_id"])
        if name == "message/stream":
            return await _stream(engine, assistant, params, request_id, v1)
        if name == "agent/getAuthenticatedExtendedCard":
            value: Any = await _card(request, assistant)
        elif name in HANDLERS:
            value = await HANDLERS[name](engine, assistant, params)
        elif any(p in method for p in PUSH_METHODS):
            raise RpcError(PUSH_NOT_SUPPORTED, "Push notifications are not supported")
        else:
            raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
    except RpcError as exc:
        return jsonrpc.error_response(request_id, exc)
    except errors.GraphportError as exc:
        return jsonrpc.error_response(request_id, jsonrpc.from_error(exc))
    if v1:
        value = shapes.to_v1(value, wrap=name == "message/send")
    return JSONResponse(jsonrpc.result(request_id, value))
