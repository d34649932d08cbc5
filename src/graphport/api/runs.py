"""Run routes: create (background, wait, stream, batch), cancel, delete, join, read."""

from __future__ import annotations

import asyncio
import fnmatch
from typing import Any

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from graphport import errors
from graphport.api import schemas
from graphport.api.bodies import json_body, path_uuid, query_flag, query_int, validate
from graphport.api.responses import JSONResponse, WaitResponse
from graphport.api.sse import EventStreamResponse, frame
from graphport.api.state import engine_of, feedback_of, run_records_of, settings_of, thread_ops_of
from graphport.auth import authorize
from graphport.engine.feedback import check_feedback_body
from graphport.engine.runs import NO_RUNS_TO_CANCEL, RunEngine
from graphport.events import Event
from graphport.models import Run, public_run, uuid4

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


def _request_id(request: Request) -> str:
    return request.headers.get("x-request-id") or uuid4()


def _run_headers(thread_id: str, run_id: str) -> dict[str, str]:
    return {
        "location": f"/threads/{thread_id}/runs/{run_id}/join",
        "content-location": f"/threads/{thread_id}/runs/{run_id}",
    }


async def _create(
    request: Request, *, stateful: bool, subscribe: bool = False
) -> tuple[dict[str, Any], Run, asyncio.Future[bytes], asyncio.Queue[Event | None] | None]:
    """Validate the body and create the run (on the path's thread, or a new one)."""
    body = await json_body(request, settings_of(request).max_body_bytes)
    validate(schemas.RUN_CREATE_STATEFUL if stateful else schemas.RUN_CREATE_STATELESS, body)
    thread_id = path_uuid(request.path_params["thread_id"], "thread") if stateful else None
    run, done, queue = await engine_of(request).create_run(
        thread_id,
        body,
        _request_id(request),
        subscribe=subscribe,
        headers=configurable_headers(request, settings_of(request).http),
    )
    return body, run, done, queue


_NEVER_COPIED = frozenset({"authorization", "x-api-key", "x-service-key", "x-tenant-id"})
_ALWAYS_COPIED = ("langsmith-trace", "baggage", "langsmith-metadata", "langsmith-tags",
                  "langsmith-project")  # fmt: skip


def configurable_headers(request: HTTPConnection, http: dict[str, Any]) -> dict[str, str]:
    """Request headers copied into the run's `configurable` (`http.configurable_headers`)."""
    rules = http.get("configurable_headers") or {}
    # `include`/`exclude`: the reference's older spellings
    includes = rules.get("includes") or rules.get("include") or []
    excludes = rules.get("excludes") or rules.get("exclude") or []
    out = {}
    for name, value in request.headers.items():
        if name in _NEVER_COPIED:
            continue
        wanted = name in _ALWAYS_COPIED or any(fnmatch.fnmatchcase(name, p) for p in includes)
        if wanted and not any(fnmatch.fnmatchcase(name, p) for p in excludes):
            out[name] = value
    return out


def _cancel_on_disconnect(engine: RunEngine, run_id: str, wanted: bool) -> Any:
    if not wanted:
        return None

    def on_disconnect() -> None:
        engine.request_cancel(run_id, "interrupt", "client disconnected")

    return on_disconnect


async def _wait(request: Request, *, stateful: bool) -> WaitResponse:
    body, run, done, _ = await _create(request, stateful=stateful)
    engine = engine_of(request)
    return WaitResponse(
        done,
        _run_headers(run["thread_id"], run["run_id"]),
        settings_of(request).keepalive_seconds,
        _cancel_on_disconnect(engine, run["run_id"], body.get("on_disconnect") == "cancel"),
    )


async def wait_stateless(request: Request) -> WaitResponse:
    return await _wait(request, stateful=False)


async def wait_thread_run(request: Request) -> WaitResponse:
    return await _wait(request, stateful=True)


async def _stream(request: Request, *, stateful: bool) -> EventStreamResponse:
    body, run, _, queue = await _create(request, stateful=stateful, subscribe=True)
    assert queue is not None
    engine = engine_of(request)
    thread_id, run_id = run["thread_id"], run["run_id"]
    return EventStreamResponse(
        queue,
        {
            "location": f"/threads/{thread_id}/runs/{run_id}/stream",
            "content-location": f"/threads/{thread_id}/runs/{run_id}",
        },
        heartbeat=settings_of(request).keepalive_seconds,
        with_ids=bool(body.get("stream_resumable")),
        on_close=lambda: engine.unsubscribe(run_id, queue),
        on_disconnect=_cancel_on_disconnect(engine, run_id, body.get("on_disconnect") == "cancel"),
    )


async def stream_stateless(request: Request) -> EventStreamResponse:
    return await _stream(request, stateful=False)


async def stream_thread_run(request: Request) -> EventStreamResponse:
    return await _stream(request, stateful=True)


async def _background(request: Request, *, stateful: bool) -> Response:
    _, run, _, _ = await _create(request, stateful=stateful)
    headers = {"content-location": f"/threads/{run['thread_id']}/runs/{run['run_id']}"}
    return JSONResponse(public_run(run), headers=headers)


async def create_stateless(request: Request) -> Response:
    return await _background(request, stateful=False)


async def create_thread_run(request: Request) -> Response:
    return await _background(request, stateful=True)


async def create_batch(request: Request) -> Response:
    bodies = await json_body(request, settings_of(request).max_body_bytes)
    if not isinstance(bodies, list):
        raise errors.ValidationFailed("Request body must be a list of runs")
    for body in bodies:
        validate(schemas.RUN_CREATE_STATELESS, body)
    engine = engine_of(request)
    runs = []
    for body in bodies:
        run, _, _ = await engine.create_run(None, body, _request_id(request))
        runs.append(public_run(run))
    return JSONResponse(runs)


async def _guard(
    request: Request, thread_id: str, action: str, value: dict[str, Any] | None = None, **kw: Any
) -> None:
    """A run's routes are authorized through its thread."""
    await thread_ops_of(request).authorize(thread_id, action, value, **kw)


def _action(request: Request) -> str:
    action = request.query_params.get("action", "interrupt")
    if action not in ("interrupt", "rollback"):
        raise errors.ValidationFailed(f"Invalid action: {action}. Expected interrupt or rollback")
    return action


async def cancel_run(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    run_id = path_uuid(request.path_params["run_id"], "run")
    wait = query_flag(request, "wait")
    await _guard(request, thread_id, "update", {"run_id": run_id, "action": _action(request)})
    body = await engine_of(request).cancel(thread_id, run_id, _action(request), wait=wait)
    if body is not None:
        return Response(body, media_type="application/json")
    return Response(status_code=202)


async def cancel_many(request: Request) -> Response:
    body = await json_body(request, settings_of(request).max_body_bytes)
    if not isinstance(body, dict):
        raise errors.ValidationFailed("Request body must be a JSON object")
    action = _action(request)
    engine = engine_of(request)
    status, thread_id, run_ids = body.get("status"), body.get("thread_id"), body.get("run_ids")
    if status is not None:
        if thread_id is not None or run_ids is not None:
            raise errors.ValidationFailed(
                "Cannot specify 'thread_id' or 'run_ids' when using 'status'"
            )
        if status not in ("pending", "running", "all"):
            raise errors.ValidationFailed(f"Invalid status: {status}")
        statuses = ["pending", "running"] if status == "all" else [status]
        visible = await authorize("threads", "update", {"thread_id": None, "action": action})
        await engine.cancel_matching(action, statuses=statuses, visible=visible)
    elif thread_id and run_ids:
        await _guard(request, path_uuid(str(thread_id), "thread"), "update",
                     {"action": action}, not_found=errors.NotFound(NO_RUNS_TO_CANCEL))  # fmt: skip
        await engine.cancel_matching(
            action,
            thread_id=path_uuid(str(thread_id), "thread"),
            run_ids=[path_uuid(str(rid), "run") for rid in run_ids],
        )
    else:
        raise errors.ValidationFailed(
            "Must provide either a status, an assistant_id, or both 'thread_id' and 'run_ids'"
        )
    return Response(status_code=204)


async def delete_run(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    run_id = path_uuid(request.path_params["run_id"], "run")
    await _guard(request, thread_id, "delete", {"run_id": run_id})
    await engine_of(request).delete(thread_id, run_id)
    return Response(status_code=204)


async def join_run(request: Request) -> WaitResponse:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    run_id = path_uuid(request.path_params["run_id"], "run")
    engine = engine_of(request)
    await _guard(request, thread_id, "read", {"run_id": run_id})
    on_disconnect = None
    if query_flag(request, "cancel_on_disconnect"):

        def on_disconnect() -> None:
            engine.request_cancel(run_id, "interrupt", "client disconnected")

    return WaitResponse(
        engine.join(thread_id, run_id),
        _run_headers(thread_id, run_id),
        settings_of(request).keepalive_seconds,
        on_disconnect,
    )


async def get_run(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    run_id = path_uuid(request.path_params["run_id"], "run")
    return JSONResponse(public_run(await run_records_of(request).get(thread_id, run_id)))


async def list_runs(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    runs = await run_records_of(request).of_thread(
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
    return JSONResponse(await run_records_of(request).webhook(run_id))


async def give_feedback(request: Request) -> Response:
    """POST to a feedback link (from a run's `__feedback__`): store one score/value/comment."""
    run_id, key = feedback_of(request).verify(request.path_params["token"])
    body = check_feedback_body(await json_body(request, settings_of(request).max_body_bytes))
    record = await run_records_of(request).add_feedback(run_id, key, body)
    return JSONResponse(record, status_code=201)


async def list_feedback(request: Request) -> Response:
    run_id = path_uuid(request.path_params["run_id"], "run")
    return JSONResponse(await run_records_of(request).feedback(run_id))


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
    engine = engine_of(request)
    await _guard(request, thread_id, "read", {"run_id": run_id})
    run, queue = await engine.follow(thread_id, run_id, request.headers.get("last-event-id"))
    headers = {
        "location": f"/threads/{thread_id}/runs/{run_id}/stream",
        "content-location": f"/threads/{thread_id}/runs/{run_id}",
    }
    settings = settings_of(request)
    if run is None:
        missing = frame("error", RUN_NOT_FOUND_EVENT)
        return EventStreamResponse(queue, headers, heartbeat=settings.keepalive_seconds,
                                   with_ids=False, first=[missing])  # fmt: skip
    on_disconnect = None
    if query_flag(request, "cancel_on_disconnect"):

        def on_disconnect() -> None:
            engine.request_cancel(run_id, "interrupt", "client disconnected")

    return EventStreamResponse(
        queue,
        headers,
        heartbeat=settings.keepalive_seconds,
        with_ids=bool(run["kwargs"].get("resumable")),
        modes=stream_modes(request),
        on_close=lambda: engine.unsubscribe(run_id, queue),
        on_disconnect=on_disconnect,
    )
