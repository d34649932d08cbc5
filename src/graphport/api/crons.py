"""Cron routes: create (stateless or on a thread), search, count, get, update, delete.

The JSON Schemas below are written from the public Agent Server OpenAPI description; their
layout shows in the 422 messages (`schema["properties"]["schedule"]`).
"""

from __future__ import annotations

from typing import Any, TypedDict

from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api import schemas
from graphport.api.bodies import json_body, path_uuid, validate
from graphport.api.responses import JSONResponse
from graphport.api.state import crons_of, settings_of
from graphport.auth import guard
from graphport.auth.filters import Conditions

# -- routes ----------------------------------------------------------------------------------


async def _body(request: Request, validator: Any) -> Any:
    body = await json_body(request, settings_of(request).max_body_bytes)
    validate(validator, body)
    return body


class _Ids(TypedDict):
    assistant_id: str | None
    thread_id: str | None


def _filter_ids(body: dict[str, Any]) -> _Ids:
    """The search and count filters by id: UUIDs only (graph ids are not resolved here)."""
    return {
        "assistant_id": path_uuid(body["assistant_id"], "assistant")
        if body.get("assistant_id")
        else None,
        "thread_id": path_uuid(body["thread_id"], "thread") if body.get("thread_id") else None,
    }


async def create_cron(request: Request) -> Response:
    body = await _body(request, schemas.CRON_CREATE)
    validate(schemas.CRON_CREATE_REQUIRED, body)
    return JSONResponse(await crons_of(request).create(None, body))


async def create_thread_cron(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    body = await _body(request, schemas.THREAD_CRON_CREATE)
    validate(schemas.CRON_CREATE_REQUIRED, body)
    return JSONResponse(await crons_of(request).create(thread_id, body))


async def _visible(
    body: dict[str, Any], ids: _Ids, limit: int, offset: int
) -> tuple[dict[str, Any] | None, Conditions | None]:
    """`crons.search`: the metadata to search (as the handler left it) and its filter."""
    value: dict[str, Any] = {**ids, "metadata": body.get("metadata"), "limit": limit,
                             "offset": offset}  # fmt: skip
    visible = await guard.search("crons", value)
    return value.get("metadata"), visible


async def search_crons(request: Request) -> Response:
    body = await _body(request, schemas.CRON_SEARCH)
    limit, offset = int(body.get("limit", 10)), int(body.get("offset", 0))
    sort_by = body.get("sort_by")
    ids = _filter_ids(body)
    metadata, visible = await _visible(body, ids, limit, offset)
    found, total = await crons_of(request).storage.search_crons(
        **ids,
        enabled=body.get("enabled"),
        metadata=metadata,
        visible=visible,
        limit=limit,
        offset=offset,
        sort_by=sort_by or "created_at",
        # as the reference: without sort_by, newest first whatever sort_order says
        sort_order=(body.get("sort_order") or "desc") if sort_by else "desc",
    )
    items: list[Any] = list(found)
    if select := body.get("select"):
        items = [{k: v for k, v in c.items() if k in select} for c in found]
    # the real total, as for assistants and threads (the reference: offset + returned, + 1)
    headers = {"x-pagination-total": str(total)}
    if offset + len(found) < total:
        headers["x-pagination-next"] = str(offset + len(found))
    return JSONResponse(items, headers=headers)


async def count_crons(request: Request) -> Response:
    body = await _body(request, schemas.CRON_COUNT)
    ids = _filter_ids(body)
    metadata, visible = await _visible(body, ids, 0, 0)
    _, total = await crons_of(request).storage.search_crons(
        **ids, metadata=metadata, limit=0, visible=visible
    )
    return JSONResponse(total)


async def get_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    await guard.cron(crons_of(request).storage, cron_id, "read")
    cron = await crons_of(request).storage.get_cron(cron_id)
    if cron is None:
        raise errors.NotFound()
    return JSONResponse(cron)


async def patch_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    body = await _body(request, schemas.CRON_PATCH)
    return JSONResponse(await crons_of(request).update(cron_id, body))


async def delete_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    await guard.cron(crons_of(request).storage, cron_id, "delete")
    if not await crons_of(request).storage.delete_cron(cron_id):
        raise errors.NotFound()
    return Response(status_code=204)
