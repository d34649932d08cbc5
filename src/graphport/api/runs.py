"""Run routes: create-and-wait, join, read."""

from __future__ import annotations

import uuid

import orjson
from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api import schemas
from graphport.api.bodies import json_body, path_uuid, query_flag, query_int, validate
from graphport.api.responses import JSONResponse, WaitResponse
from graphport.api.sse import EventStreamResponse, frame
from graphport.bus.memory import END, event_seq
from graphport.engine.feedback import check_feedback_body
from graphport.engine.runs import RunEngine
from graphport.models import TERMINAL_RUN_STATUSES, iso, public_run

RUN_NOT_FOUND_EVENT = b'{"error":"HTTPException","message":"404: Run not found"}'
RUN_FIELDS = frozenset(
    {
        "run_id",
        "thread_id",
        "assistant_id",
        "created_at",
        "updated_at",
        "status",
        "metadata",
        "kwargs",
        "multitask_strategy",
        "langsmith_session_name",
    }
)


def _engine(request: Request) -> RunEngine:
    return request.app.state.engine  # type: ignore[no-any-return]


def _request_id(request: Request) -> str:
    return request.headers.get("x-request-id") or str(uuid.uuid4())


def _run_headers(thread_id: str, run_id: str) -> dict[str, str]:
    return {
        "location": f"/threads/{thread_id}/runs/{run_id}/join",
        "content-location": f"/threads/{thread_id}/runs/{run_id}",
    }


async def wait_stateless(request: Request) -> WaitResponse:
    settings = request.app.state.settings
    body = await json_body(request, settings.max_body_bytes)
    validate(schemas.RUN_CREATE_STATELESS, body)
    engine = _engine(request)
    run, result = await engine.create_stateless(body, _request_id(request))
    run_id = run["run_id"]
    on_disconnect = None
    if body.get("on_disconnect") == "cancel":

        def on_disconnect() -> None:
            engine.cancel(run_id, "client disconnected")

    return WaitResponse(
        result,
        _run_headers(run["thread_id"], run_id),
        settings.keepalive_seconds,
        on_disconnect,
    )


async def join_run(request: Request) -> WaitResponse:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    run_id = path_uuid(request.path_params["run_id"], "run")
    engine = _engine(request)
    on_disconnect = None
    if query_flag(request, "cancel_on_disconnect"):

        def on_disconnect() -> None:
            engine.cancel(run_id, "client disconnected")

    return WaitResponse(
        engine.join(thread_id, run_id),
        _run_headers(thread_id, run_id),
        request.app.state.settings.keepalive_seconds,
        on_disconnect,
    )


async def get_run(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    run_id = path_uuid(request.path_params["run_id"], "run")
    storage = _engine(request).storage
    run = await storage.get_run(thread_id, run_id)
    if run is None:
        if await storage.get_thread(thread_id) is None:
            raise errors.thread_not_found(thread_id)
        raise errors.NotFound()
    return JSONResponse(public_run(run))


async def list_runs(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    storage = _engine(request).storage
    if await storage.get_thread(thread_id) is None:
        raise errors.thread_not_found(thread_id)
    runs = await storage.list_runs(
        thread_id,
        limit=query_int(request, "limit", 10),
        offset=query_int(request, "offset", 0),
        status=request.query_params.get("status") or None,
    )
    select = request.query_params.getlist("select")
    out: list[dict[str, object]] = [dict(public_run(r)) for r in runs]
    if select:
        bad = [s for s in select if s not in RUN_FIELDS]
        if bad:
            raise errors.ValidationFailed(f"Invalid select field(s): {', '.join(bad)}")
        out = [{k: r[k] for k in select if k in r} for r in out]
    return JSONResponse(out)


async def get_webhook(request: Request) -> Response:
    """graphport's own route: a run's webhook delivery and every attempt at it."""
    run_id = path_uuid(request.path_params["run_id"], "run")
    delivery = await _engine(request).storage.get_webhook(run_id)
    if delivery is None:
        raise errors.NotFound(f"No webhook delivery for run {run_id}")
    return JSONResponse(delivery)


async def give_feedback(request: Request) -> Response:
    """POST to a feedback link (from a run's `__feedback__`): store one score/value/comment."""
    links = request.app.state.feedback
    run_id, key = links.verify(request.path_params["token"])
    body = check_feedback_body(await json_body(request, request.app.state.settings.max_body_bytes))
    record = {"feedback_id": str(uuid.uuid4()), "run_id": run_id, "key": key, **body,
              "created_at": iso()}  # fmt: skip
    await _engine(request).storage.add_feedback(record)
    return JSONResponse(record, status_code=201)


async def list_feedback(request: Request) -> Response:
    run_id = path_uuid(request.path_params["run_id"], "run")
    return JSONResponse(await _engine(request).storage.list_feedback(run_id))


def stream_modes(request: Request) -> set[str] | None:
    """`?stream_mode=` as one value, repeated values, or a JSON array string."""
    values: list[str] = []
    for raw in request.query_params.getlist("stream_mode"):
        if raw.startswith("["):
            try:
                values += [str(v) for v in orjson.loads(raw)]
            except orjson.JSONDecodeError:
                raise errors.ValidationFailed(f"Invalid stream_mode {raw}") from None
        elif raw:
            values.append(raw)
    return set(values) or None


async def join_stream(request: Request) -> Response | EventStreamResponse:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    run_id = path_uuid(request.path_params["run_id"], "run")
    engine = _engine(request)
    bus = engine.bus
    last = request.headers.get("last-event-id")
    queue = bus.subscribe(run_id, event_seq(last) if last else None)
    run = await engine.storage.get_run(thread_id, run_id)
    headers = {
        "location": f"/threads/{thread_id}/runs/{run_id}/stream",
        "content-location": f"/threads/{thread_id}/runs/{run_id}",
    }
    settings = request.app.state.settings
    if run is None:
        bus.unsubscribe(run_id, queue)
        queue.put_nowait(END)
        missing = frame("error", RUN_NOT_FOUND_EVENT)
        return EventStreamResponse(queue, headers, heartbeat=settings.keepalive_seconds,
                                   with_ids=False, first=[missing])  # fmt: skip
    if run["status"] in TERMINAL_RUN_STATUSES and not bus.ended(run_id):
        bus.unsubscribe(run_id, queue)
        queue.put_nowait(END)
    on_disconnect = None
    if query_flag(request, "cancel_on_disconnect"):

        def on_disconnect() -> None:
            engine.cancel(run_id, "client disconnected")

    return EventStreamResponse(
        queue,
        headers,
        heartbeat=settings.keepalive_seconds,
        with_ids=bool(run["kwargs"].get("resumable")),
        modes=stream_modes(request),
        on_close=lambda: bus.unsubscribe(run_id, queue),
        on_disconnect=on_disconnect,
    )
