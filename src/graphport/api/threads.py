"""Thread routes: CRUD, search, state, history, copy, prune."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api.bodies import json_body, path_uuid, query_flag, query_int
from graphport.api.responses import JSONResponse, paged
from graphport.api.sse import EventStreamResponse
from graphport.api.state import engine_of, settings_of, thread_ops_of
from graphport.engine.threads import ThreadOps
from graphport.events import Event
from graphport.models import Thread, uuid7
from graphport.storage.base import TTL_STRATEGIES

THREAD_FIELDS = frozenset(
    {"thread_id", "created_at", "updated_at", "state_updated_at", "metadata", "config",
     "status", "values", "interrupts", "error"}
)  # fmt: skip


def _ops(request: Request) -> ThreadOps:
    return thread_ops_of(request)


async def _object_body(request: Request, *, empty_ok: bool = True) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip() and empty_ok:
        return {}
    body = await json_body(request, settings_of(request).max_body_bytes)
    if body is None and empty_ok:
        return {}
    if not isinstance(body, dict):
        raise errors.ValidationFailed("Request body must be a JSON object")
    return body


def _ttl(body: dict[str, Any]) -> dict[str, Any] | None:
    ttl = body.get("ttl")
    if ttl is None:
        return None
    if isinstance(ttl, int | float) and not isinstance(ttl, bool):
        ttl = {"ttl": ttl, "strategy": "delete"}
    if not isinstance(ttl, dict) or not isinstance(ttl.get("ttl"), int | float):
        raise errors.ValidationFailed(
            'ttl must be {"ttl": <minutes>, "strategy": "delete" | "keep_latest"}'
        )
    strategy = ttl.get("strategy") or "delete"
    if strategy not in TTL_STRATEGIES:
        raise errors.ValidationFailed(
            f"Invalid thread TTL strategy: {strategy}. Expected one of {list(TTL_STRATEGIES)}"
        )
    return {"strategy": strategy, "ttl": ttl["ttl"]}


def _select(items: list[Thread], select: list[str] | None) -> list[Any]:
    if not select:
        return list(items)
    bad = [s for s in select if s not in THREAD_FIELDS]
    if bad:
        raise errors.ValidationFailed(f"Invalid select field(s): {', '.join(bad)}")
    return [{k: t[k] for k in select if k in t} for t in items]  # type: ignore[literal-required]


async def create_thread(request: Request) -> Response:
    body = await _object_body(request)
    thread_id = body.get("thread_id")
    thread_id = path_uuid(str(thread_id), "thread") if thread_id else uuid7()
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise errors.ValidationFailed("metadata must be an object")
    if_exists = body.get("if_exists") or "raise"
    if if_exists not in ("raise", "do_nothing"):
        raise errors.ValidationFailed(f"Invalid if_exists: {if_exists}")
    created = await _ops(request).create(
        thread_id, metadata, if_exists=if_exists, ttl=_ttl(body), supersteps=body.get("supersteps")
    )
    return JSONResponse(created)


async def get_thread(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    await _ops(request).authorize(thread_id, "read")
    return JSONResponse(await _ops(request).require(thread_id))


async def patch_thread(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    body = await _object_body(request)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise errors.ValidationFailed("metadata must be an object")
    return JSONResponse(await _ops(request).update(thread_id, metadata, _ttl(body)))


async def delete_thread(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    await _ops(request).authorize(thread_id, "delete")
    if not await _ops(request).delete(thread_id):
        raise errors.thread_not_found(thread_id)
    return Response(status_code=204)


def _search_args(body: dict[str, Any]) -> dict[str, Any]:
    status = body.get("status")
    if status is not None and status not in ("idle", "busy", "interrupted", "error"):
        raise errors.ValidationFailed(f"Invalid status: {status}")
    for key in ("metadata", "values"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise errors.ValidationFailed(f"{key} must be an object")
    ids = body.get("ids")
    return {
        "metadata": body.get("metadata"),
        "values": body.get("values"),
        "status": status,
        "ids": [path_uuid(str(i), "thread") for i in ids] if ids else None,
    }


async def search_threads(request: Request) -> Response:
    body = await _object_body(request)
    limit = int(body.get("limit") or 10)
    offset = int(body.get("offset") or 0)
    threads, total = await _ops(request).search(
        _search_args(body),
        limit=limit,
        offset=offset,
        sort_by=str(body.get("sort_by") or "created_at"),
        sort_order=str(body.get("sort_order") or "desc"),
    )
    return paged(_select(threads, body.get("select")), offset, total)


async def count_threads(request: Request) -> Response:
    body = await _object_body(request)
    return JSONResponse(await _ops(request).count(_search_args(body)))


async def prune_threads(request: Request) -> Response:
    body = await _object_body(request)
    strategy = body.get("strategy", "delete")
    if strategy not in ("delete", "keep_latest"):
        raise errors.ValidationFailed(
            f"Invalid strategy: {strategy}. Expected 'delete' or 'keep_latest'."
        )
    thread_ids = [path_uuid(str(t), "thread") for t in body.get("thread_ids") or []]
    thread_ids = [t for t in thread_ids if await _ops(request).may(t, "delete")]
    if strategy == "keep_latest":
        return JSONResponse({"pruned_count": await _ops(request).keep_latest(thread_ids)})
    count = 0
    for thread_id in thread_ids:
        if await _ops(request).delete(thread_id):
            count += 1
    return JSONResponse({"pruned_count": count})


async def copy_thread(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    await _ops(request).authorize(thread_id, "read")
    return JSONResponse(await _ops(request).copy(thread_id))


# -- state -----------------------------------------------------------------------------------


async def get_state(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    checkpoint_id = request.path_params.get("checkpoint_id")
    checkpoint = {"checkpoint_id": checkpoint_id} if checkpoint_id else None
    await _ops(request).authorize(thread_id, "read")
    state = await _ops(request).get_state(
        thread_id, checkpoint, subgraphs=query_flag(request, "subgraphs")
    )
    return JSONResponse(state)


async def get_state_at_checkpoint(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    body = await _object_body(request)
    checkpoint = body.get("checkpoint") or {}
    if not isinstance(checkpoint, dict):
        raise errors.ValidationFailed("checkpoint must be an object")
    await _ops(request).authorize(thread_id, "read")
    state = await _ops(request).get_state(
        thread_id, checkpoint, subgraphs=bool(body.get("subgraphs"))
    )
    return JSONResponse(state)


async def update_state(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    body = await _object_body(request)
    checkpoint = dict(body.get("checkpoint") or {})
    if body.get("checkpoint_id"):
        checkpoint["checkpoint_id"] = body["checkpoint_id"]
    await _ops(request).authorize(thread_id, "update")
    result = await _ops(request).update_state(
        thread_id, body.get("values"), as_node=body.get("as_node"), checkpoint=checkpoint or None
    )
    return JSONResponse(result)


async def history(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    if request.method == "GET":
        limit = query_int(request, "limit", 1)
        before: Any = request.query_params.get("before")
        metadata = checkpoint = None
    else:
        body = await _object_body(request)
        limit = body.get("limit", 1)
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise errors.ValidationFailed(f"Invalid limit {limit}")
        before, metadata, checkpoint = (
            body.get("before"),
            body.get("metadata"),
            body.get("checkpoint"),
        )
    if limit < 1:
        raise errors.ValidationFailed(f"Invalid limit {limit}")
    await _ops(request).authorize(thread_id, "read")
    states = await _ops(request).history(
        thread_id, limit=limit, before=before, metadata=metadata, checkpoint=checkpoint
    )
    return JSONResponse(states)


THREAD_STREAM_MODES = ("run_modes", "lifecycle", "state_update")
_STREAM_ID = re.compile(r"^\d+(-\d+)?$")


def _thread_stream_filter(modes: list[str]) -> Callable[[Event], bool]:
    def accept(item: Event) -> bool:
        if "run_modes" in modes and item.event != "state_update":
            return True
        if "state_update" in modes and item.event == "state_update":
            return True
        return "lifecycle" in modes and item.event == "metadata"

    return accept


async def join_thread_stream(request: Request) -> Response | EventStreamResponse:
    """Every run of the thread, as SSE, until the client goes away."""
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    # the reference reads `stream_modes` while the SDK sends `stream_mode`: accept both
    raw = request.query_params.get("stream_modes") or ",".join(
        request.query_params.getlist("stream_mode")
    )
    modes = [m.strip() for m in raw.split(",") if m.strip()] or ["run_modes"]
    for mode in modes:
        if mode not in THREAD_STREAM_MODES:
            raise errors.ValidationFailed(f"Invalid stream mode: {mode}")
    last = request.headers.get("last-event-id")
    if last is not None and not _STREAM_ID.match(last.strip()):
        raise errors.ValidationFailed("Invalid last-event-id: must be a valid Redis stream ID")
    await _ops(request).authorize(thread_id, "read")
    await _ops(request).require(thread_id)
    engine = engine_of(request)
    queue = engine.subscribe_thread(thread_id)
    return EventStreamResponse(
        queue,
        {},
        heartbeat=settings_of(request).keepalive_seconds,
        with_ids=True,
        accept=_thread_stream_filter(modes),
        on_close=lambda: engine.unsubscribe_thread(thread_id, queue),
    )
