"""Assistant routes (read side: the default assistants of the loaded graphs)."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

from langgraph._internal._pydantic import create_model
from langgraph.channels.base import BaseChannel
from langgraph.pregel import Pregel
from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api.bodies import json_body, query_flag
from graphport.api.responses import JSONResponse
from graphport.engine.runs import RunEngine
from graphport.models import Assistant

SORT_FIELDS = {"assistant_id", "graph_id", "name", "created_at", "updated_at"}


def _engine(request: Request) -> RunEngine:
    return request.app.state.engine  # type: ignore[no-any-return]


async def _assistant(request: Request) -> Assistant:
    """The assistant named in the path: a UUID, or a graph id for its default assistant."""
    engine = _engine(request)
    raw = request.path_params["assistant_id"]
    if raw in engine.graphs:
        return await engine.resolve_assistant(raw)
    try:
        aid = str(uuid.UUID(raw))
    except ValueError:
        raise errors.ValidationFailed("Invalid assistant ID: must be a UUID") from None
    assistant = await engine.storage.get_assistant(aid)
    if assistant is None:
        raise errors.assistant_not_found(aid)
    return assistant


async def get_assistant(request: Request) -> Response:
    return JSONResponse(await _assistant(request))


async def search_assistants(request: Request) -> Response:
    body = await json_body(request, request.app.state.settings.max_body_bytes) or {}
    if not isinstance(body, dict):
        raise errors.ValidationFailed("Request body must be a JSON object")
    limit = int(body.get("limit") or 10)
    offset = int(body.get("offset") or 0)
    sort_by = body.get("sort_by") or "created_at"
    sort_order = (body.get("sort_order") or "desc").lower()
    if sort_by not in SORT_FIELDS or sort_order not in ("asc", "desc"):
        raise errors.ValidationFailed(f"Invalid sort: {sort_by} {sort_order}")
    found, total = await _engine(request).storage.search_assistants(
        graph_id=body.get("graph_id"),
        name=body.get("name"),
        metadata=body.get("metadata"),
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_order=sort_order,
    )
    select = body.get("select")
    items: list[Any] = list(found)
    if select:
        items = [{k: a[k] for k in select if k in a} for a in found]  # type: ignore[literal-required]
    headers = {"x-pagination-total": str(total)}
    if offset + len(found) < total:
        headers["x-pagination-next"] = str(offset + len(found))
    return JSONResponse(items, headers=headers)


async def _graph_for(request: Request, assistant: Assistant) -> Any:
    engine = _engine(request)
    entry = engine.graphs.get(assistant["graph_id"])
    if entry is None:
        raise errors.NotFound(f"Graph '{assistant['graph_id']}' not found")
    return entry


async def get_graph(request: Request) -> Response:
    assistant = await _assistant(request)
    entry = await _graph_for(request, assistant)
    xray: bool | int = query_flag(request, "xray")
    raw = request.query_params.get("xray", "")
    if raw.isdigit() and int(raw) > 1:
        xray = int(raw)
    storage = _engine(request).storage
    async with entry.resolve(
        {"configurable": assistant["config"].get("configurable", {})},
        checkpointer=storage.checkpointer,
        store=storage.store,
        access="assistants.read",
    ) as graph:
        drawable = await graph.aget_graph(xray=xray)
        return JSONResponse(drawable.to_json(with_schemas=True))


def _state_jsonschema(graph: Pregel) -> dict[str, Any] | None:
    fields = {
        k: (c.ValueType, None)
        for k in graph.stream_channels_list
        if isinstance(c := graph.channels.get(k), BaseChannel)
    }
    return create_model(graph.get_name("State"), field_definitions=fields).model_json_schema()


def _try(fn: Any) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except Exception:
        return None


async def get_schemas(request: Request) -> Response:
    assistant = await _assistant(request)
    entry = await _graph_for(request, assistant)
    storage = _engine(request).storage
    async with entry.resolve(
        {"configurable": assistant["config"].get("configurable", {})},
        checkpointer=storage.checkpointer,
        store=storage.store,
        access="assistants.read",
    ) as graph:
        return JSONResponse(
            {
                "graph_id": assistant["graph_id"],
                "input_schema": _try(graph.get_input_jsonschema),
                "output_schema": _try(graph.get_output_jsonschema),
                "state_schema": _try(lambda: _state_jsonschema(graph)),
                "config_schema": _try(graph.get_config_jsonschema),
                "context_schema": _try(graph.get_context_jsonschema),
            }
        )
