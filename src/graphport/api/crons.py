"""Cron routes: create (stateless or on a thread), search, count, get, update, delete.

The JSON Schemas below are written from the public Agent Server OpenAPI description; their
layout shows in the 422 messages (`schema["properties"]["schedule"]`).
"""

from __future__ import annotations

from typing import Any, TypedDict

import jsonschema_rs
from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api.bodies import json_body, path_uuid, validate
from graphport.api.responses import JSONResponse
from graphport.api.schemas import STREAM_MODES
from graphport.api.state import crons_of, settings_of
from graphport.storage.base import CRON_SORT_FIELDS

# -- request bodies --------------------------------------------------------------------------

_NO_NUL_KEYS = {"propertyNames": {"pattern": "^(?!.*\\\\[uU]0000)[^\\u0000]*$"}}
_INTERRUPT_NODES = {
    "anyOf": [{"type": "string", "enum": ["*"]}, {"items": {"type": "string"}, "type": "array"}]
}
CRON_FIELDS = [
    "cron_id", "assistant_id", "thread_id", "on_run_completed", "end_time", "schedule",
    "timezone", "created_at", "updated_at", "user_id", "payload", "next_run_date", "metadata",
    "enabled",
]  # fmt: skip


def _run_fields(*, end_time: dict[str, Any], assistant: bool) -> dict[str, Any]:
    """The properties every cron body shares, in the reference's order, up to the webhook."""
    fields: dict[str, Any] = {
        "schedule": {"type": "string", "title": "Schedule"},
        "timezone": {"type": "string", "title": "Timezone"},
        "end_time": end_time,
    }
    if assistant:
        fields["assistant_id"] = {
            "anyOf": [
                {"type": "string", "format": "uuid", "title": "Assistant Id"},
                {"type": "string", "title": "Graph Id"},
            ]
        }
    fields |= {
        "input": {
            "anyOf": [{"items": {"type": "object"}, "type": "array"}, {"type": "object"}],
            "title": "Input",
        },
        "metadata": {"type": "object", "title": "Metadata"},
        "config": {
            "properties": {
                "tags": {"items": {"type": "string"}, "type": "array", "title": "Tags"},
                "recursion_limit": {"type": "integer", "title": "Recursion Limit"},
                "configurable": {"type": "object", "title": "Configurable", **_NO_NUL_KEYS},
            },
            "type": "object",
            "title": "Config",
            **_NO_NUL_KEYS,
        },
        "context": {"type": "object", "title": "Context", **_NO_NUL_KEYS},
        "webhook": {
            "type": "string",
            "maxLength": 65536,
            "minLength": 1,
            "format": "uri-reference",
            "title": "Webhook",
        },
        "interrupt_before": {**_INTERRUPT_NODES, "title": "Interrupt Before"},
        "interrupt_after": {**_INTERRUPT_NODES, "title": "Interrupt After"},
    }
    return fields


_STREAM_FIELDS: dict[str, Any] = {
    "enabled": {"type": "boolean", "title": "Enabled", "default": True},
    "stream_mode": {
        "anyOf": [
            {"items": {"type": "string", "enum": STREAM_MODES}, "type": "array"},
            {"type": "string", "enum": STREAM_MODES},
        ],
        "title": "Stream Mode",
        "default": ["values"],
    },
    "stream_subgraphs": {"type": "boolean", "title": "Stream Subgraphs", "default": False},
    "stream_resumable": {"type": "boolean", "title": "Stream Resumable", "default": False},
    "durability": {
        "type": "string",
        "enum": ["sync", "async", "exit"],
        "title": "Durability",
        "default": "async",
    },
}
_END_TIME = {"type": "string", "format": "date-time", "title": "End Time"}
_ON_RUN_COMPLETED = {
    "type": "string",
    "enum": ["delete", "keep"],
    "title": "On Run Completed",
}
_UUID = {"type": "string", "format": "uuid"}

CRON_CREATE = jsonschema_rs.validator_for(
    {
        "properties": {
            **_run_fields(end_time=_END_TIME, assistant=True),
            "on_run_completed": {**_ON_RUN_COMPLETED, "default": "delete"},
            **_STREAM_FIELDS,
        },
        "type": "object",
        "required": ["assistant_id", "schedule"],
        "additionalProperties": True,
        "title": "CronCreate",
    }
)
THREAD_CRON_CREATE = jsonschema_rs.validator_for(
    {
        "properties": {
            **_run_fields(end_time=_END_TIME, assistant=True),
            "multitask_strategy": {
                "type": "string",
                "enum": ["reject", "rollback", "interrupt", "enqueue"],
                "title": "Multitask Strategy",
                "default": "enqueue",
            },
            **_STREAM_FIELDS,
        },
        "type": "object",
        "required": ["assistant_id", "schedule"],
        "title": "ThreadCronCreate",
    }
)
# jsonschema-rs 0.44 skips `required` in an object schema with 15 properties or more (the
# reference then fails with a KeyError, a 500): it is checked on its own.
CREATE_REQUIRED = jsonschema_rs.validator_for(
    {"type": "object", "required": ["assistant_id", "schedule"]}
)
CRON_PATCH = jsonschema_rs.validator_for(
    {
        "properties": {
            **_run_fields(end_time={**_END_TIME, "type": ["string", "null"]}, assistant=False),
            "on_run_completed": _ON_RUN_COMPLETED,
            **_STREAM_FIELDS,
        },
        "type": "object",
        "title": "CronPatch",
    }
)
CRON_SEARCH = jsonschema_rs.validator_for(
    {
        "properties": {
            "assistant_id": {**_UUID, "title": "Assistant Id"},
            "thread_id": {**_UUID, "title": "Thread Id"},
            "enabled": {"type": "boolean", "title": "Enabled"},
            "metadata": {"type": "object", "title": "Metadata"},
            "limit": {
                "type": "integer",
                "title": "Limit",
                "default": 10,
                "minimum": 1,
                "maximum": 1000,
            },
            "offset": {"type": "integer", "title": "Offset", "default": 0, "minimum": 0},
            "sort_by": {
                "type": "string",
                "title": "Sort By",
                "default": "created_at",
                "enum": list(CRON_SORT_FIELDS),
            },
            "sort_order": {
                "type": "string",
                "title": "Sort Order",
                "default": "desc",
                "enum": ["asc", "desc"],
            },
            "select": {
                "type": "array",
                "items": {"type": "string", "enum": CRON_FIELDS},
                "title": "Select",
            },
        },
        "type": "object",
        "required": [],
        "title": "CronSearch",
    }
)
CRON_COUNT = jsonschema_rs.validator_for(
    {
        "properties": {
            "assistant_id": {**_UUID, "title": "Assistant Id"},
            "thread_id": {**_UUID, "title": "Thread Id"},
            "metadata": {"type": "object", "title": "Metadata"},
        },
        "type": "object",
        "title": "CronCountRequest",
    }
)


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
    body = await _body(request, CRON_CREATE)
    validate(CREATE_REQUIRED, body)
    return JSONResponse(await crons_of(request).create(None, body))


async def create_thread_cron(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    body = await _body(request, THREAD_CRON_CREATE)
    validate(CREATE_REQUIRED, body)
    return JSONResponse(await crons_of(request).create(thread_id, body))


async def search_crons(request: Request) -> Response:
    body = await _body(request, CRON_SEARCH)
    limit, offset = int(body.get("limit", 10)), int(body.get("offset", 0))
    sort_by = body.get("sort_by")
    found, total = await crons_of(request).storage.search_crons(
        **_filter_ids(body),
        enabled=body.get("enabled"),
        metadata=body.get("metadata"),
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
    body = await _body(request, CRON_COUNT)
    _, total = await crons_of(request).storage.search_crons(
        **_filter_ids(body), metadata=body.get("metadata"), limit=0
    )
    return JSONResponse(total)


async def get_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    cron = await crons_of(request).storage.get_cron(cron_id)
    if cron is None:
        raise errors.NotFound()
    return JSONResponse(cron)


async def patch_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    body = await _body(request, CRON_PATCH)
    return JSONResponse(await crons_of(request).update(cron_id, body))


async def delete_cron(request: Request) -> Response:
    cron_id = path_uuid(request.path_params["cron_id"], "cron")
    if not await crons_of(request).storage.delete_cron(cron_id):
        raise errors.NotFound()
    return Response(status_code=204)
