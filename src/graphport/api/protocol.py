"""Routes of the thread event protocol (v2): commands, and the thread's events over SSE or a
WebSocket. The protocol itself is engine/protocol.py.

  POST /threads/{tid}/commands        one command in, its reply out (200, or 400 if malformed)
  POST /threads/{tid}/stream/events   `{channels, namespaces?, depth?, since?}`: the thread's
                                      events as SSE (`id: <seq>`), open until the client leaves
  WS   /threads/{tid}/stream/events   commands in (`subscription.subscribe` among them), their
                                      replies and the subscribed events out
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from graphport import errors, serde
from graphport.api.bodies import loads, path_uuid
from graphport.api.responses import JSONResponse
from graphport.api.runs import configurable_headers
from graphport.api.sse import EventStreamResponse
from graphport.api.state import protocol_of, settings_of, thread_ops_of
from graphport.engine.protocol import envelope_error
from graphport.engine.protocol_log import (
    SubscriptionError,
    parse_subscription,
    stream_error_detail,
)
from graphport.events import END, Event

INVALID_JSON = "Protocol commands must be valid JSON."


def _headers(conn: HTTPConnection) -> dict[str, str]:
    return configurable_headers(conn, settings_of(conn).http)


async def _body(request: Request) -> Any:
    raw = await request.body()
    limit = settings_of(request).max_body_bytes
    if len(raw) > limit:
        raise errors.BodyTooLarge(f"Request body too large (limit: {limit} bytes)")
    try:
        return loads(raw)
    except orjson.JSONDecodeError:
        raise errors.BadRequest("Invalid JSON body") from None


async def _visible(conn: HTTPConnection, thread_id: str) -> None:
    """Commands and streams address the thread: `threads.read` must let the user see it (a
    run they start is authorized again as `threads.create_run`)."""
    await thread_ops_of(conn).authorize(thread_id, "read")


async def command(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    await _visible(request, thread_id)
    body = await _body(request)
    malformed = envelope_error(body)
    if malformed is not None:
        return JSONResponse(malformed, status_code=400)
    return JSONResponse(
        await protocol_of(request).command(thread_id, body, None, _headers(request))
    )


async def stream_events(request: Request) -> EventStreamResponse:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    await _visible(request, thread_id)
    try:
        flt, since = parse_subscription(await _body(request))
    except SubscriptionError as exc:
        raise errors.BadRequest(stream_error_detail(exc)) from None
    hub = protocol_of(request)
    listener = hub.listen(thread_id, flt, since)
    return EventStreamResponse(
        listener.queue,
        {},
        heartbeat=settings_of(request).keepalive_seconds,
        with_ids=True,
        on_close=lambda: hub.close(thread_id, listener),
    )


async def stream_socket(websocket: WebSocket) -> None:
    try:
        thread_id = path_uuid(websocket.path_params["thread_id"], "thread")
    except errors.GraphportError:
        await websocket.close(code=4422, reason="Invalid thread ID: must be a UUID")
        return
    try:
        await _visible(websocket, thread_id)
    except errors.GraphportError as exc:
        await websocket.close(code=4000 + exc.status_code, reason=exc.detail[:120])
        return
    await websocket.accept()
    hub = protocol_of(websocket)
    listener = hub.listen(thread_id)
    sender = asyncio.create_task(_send(websocket, listener.queue))
    headers = _headers(websocket)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            try:
                cmd = loads(message.get("text") or message.get("bytes") or b"")
            except (orjson.JSONDecodeError, errors.ValidationFailed) as exc:
                why = exc.detail if isinstance(exc, errors.ValidationFailed) else INVALID_JSON
                reply: dict[str, Any] | None = {
                    "type": "error", "id": None, "error": "invalid_argument", "message": why,
                }  # fmt: skip
            else:
                reply = envelope_error(cmd)
                if reply is None:
                    reply = await hub.command(thread_id, cmd, listener, headers)
            listener.queue.put_nowait(serde.dumps(reply))
    finally:
        hub.close(thread_id, listener)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _send(websocket: WebSocket, queue: asyncio.Queue[Any]) -> None:
    """Replies and events, in the order they were queued; END (server stop) closes."""
    try:
        while True:
            item = await queue.get()
            if item is END:
                await websocket.close(code=1001)
                return
            data = item.data if isinstance(item, Event) else item
            await websocket.send_text(data.decode())
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away: the receive loop ends too
