"""Cron routes: create (stateless or on a thread), search, count, get, update, delete.

The JSON Schemas below are written from the public Agent Server OpenAPI description; their
layout shows in the 422 messages (`schema["properties"]["schedule"]`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graphport.api import schemas
from graphport.api.bodies import json_body, path_uuid, validate
from graphport.api.responses import JSONResponse, paged
from graphport.api.state import crons_of, settings_of
from graphport.engine.crons import CronIds

# -- routes ----------------------------------------------------------------------------------


async def _body(request: Request, validator: Any) -> Any:
    body = await json_body(request, settings_of(request).max_body_bytes)
    validate(validator, body)
    return body


def _filter_ids(body: dict[str, Any]) -> CronIds:
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


async def search_crons(request: Request) -> Response:
    body = await _body(request, schemas.CRON_SEARCH)
    found, total = await crons_of(request).search(_filter_ids(body), body)
    items: list[Any] = list(found)
    if select := body.get("select"):
        items = [{k: v for k, v in c.items() if k in select} for c in found]
    return paged(items, int(body.get("offset", 0)), total)


async def count_crons(request: Request) -> Response:
    body = await _body(request, schemas.CRON_COUNT)
    return JSONResponse(await crons_of(request).count(_filter_ids(body), body))


async def get_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    return JSONResponse(await crons_of(request).get(cron_id))


async def patch_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    body = await _body(request, schemas.CRON_PATCH)
    return JSONResponse(await crons_of(request).update(cron_id, body))


async def delete_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    await crons_of(request).delete(cron_id)
    return Response(status_code=204)
