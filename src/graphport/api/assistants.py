"""Assistant routes: create, search, count, get, update (a new version), delete, versions, and
the graph, schemas and subgraphs of an assistant's graph.

Wherever a path names an assistant, a graph id stands for the graph's default assistant (the
reference does so only for `/graph`, spec §7 #11).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api import schemas
from graphport.api.bodies import json_body, path_uuid, validate
from graphport.api.responses import JSONResponse
from graphport.api.state import engine_of, settings_of, thread_ops_of
from graphport.auth import authorize, guard
from graphport.auth.filters import Conditions
from graphport.engine import graph_info
from graphport.graphs import GraphEntry
from graphport.models import Assistant, iso

BOTH_CONFIGURABLE_AND_CONTEXT = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was "
    "introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)
INVALID_ID = "Invalid assistant ID: must be a UUID"


# -- helpers -----------------------------------------------------------------------------------


async def _body(request: Request, validator: Any) -> dict[str, Any]:
    body: dict[str, Any] = await json_body(request, settings_of(request).max_body_bytes)
    validate(validator, body)
    return body


def _path_id(request: Request) -> str:
    """The assistant id of the path: a UUID, or a graph id for the graph's default assistant."""
    raw = request.path_params["assistant_id"]
    entry = engine_of(request).graphs.get(raw)
    if entry is not None:
        return entry.assistant_id
    return path_uuid(raw, "assistant")


def _require_graph(request: Request, graph_id: str) -> None:
    graphs = engine_of(request).graphs
    if graph_id not in graphs:
        raise errors.NotFound(f"Graph '{graph_id}' not found. Expected one of: {sorted(graphs)}")


def _check_config(config: Any) -> None:
    if config:
        validate(schemas.ASSISTANT_CONFIG, config)


async def _assistant(request: Request) -> tuple[Assistant, GraphEntry]:
    """The assistant of the path and its graph; 404 as the reference words it for reads."""
    assistant_id = _path_id(request)
    await guard.assistant(engine_of(request).storage, assistant_id, "read")
    assistant = await engine_of(request).storage.get_assistant(assistant_id)
    if assistant is None:
        raise errors.NotFound()
    entry = engine_of(request).graphs.get(assistant["graph_id"])
    if entry is None:  # its graph is no longer in langgraph.json: hidden, as from search
        raise errors.NotFound(f"assistant {assistant_id} not found")
    return assistant, entry


# -- create, read, update, delete --------------------------------------------------------------


async def create_assistant(request: Request) -> Response:
    body = await _body(request, schemas.ASSISTANT_CREATE)
    assistant_id = body.get("assistant_id") or str(uuid.uuid4())
    try:
        assistant_id = str(uuid.UUID(assistant_id))
    except ValueError:
        raise errors.ValidationFailed(INVALID_ID) from None
    _check_config(body.get("config"))
    _require_graph(request, body["graph_id"])
    config = dict(body.get("config") or {})
    context = body.get("context")
    if config.get("configurable") and context:
        raise errors.BadRequest(BOTH_CONFIGURABLE_AND_CONTEXT)
    # config.configurable and context mirror each other
    if config.get("configurable"):
        context = config["configurable"]
    elif context:
        config["configurable"] = context
    if_exists = body.get("if_exists") or "raise"
    value = await guard.create("assistants", {
        "assistant_id": assistant_id, "graph_id": body["graph_id"], "config": config,
        "context": context or {}, "metadata": dict(body.get("metadata") or {}),
        "if_exists": if_exists, "name": body.get("name") or "Untitled",
    })  # fmt: skip
    now = iso()
    record: Assistant = {
        "assistant_id": assistant_id,
        "graph_id": body["graph_id"],
        "config": config,
        "context": context or {},
        "metadata": value.get("metadata") or {},
        "name": body.get("name") or "Untitled",
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "description": body.get("description"),
    }
    stored = await engine_of(request).storage.create_assistant(record, if_exists=if_exists)
    return JSONResponse(stored)


async def get_assistant(request: Request) -> Response:
    assistant, _ = await _assistant(request)
    return JSONResponse(assistant)


async def patch_assistant(request: Request) -> Response:
    assistant_id = _path_id(request)
    body = await _body(request, schemas.ASSISTANT_PATCH)
    _check_config(body.get("config"))
    graph_id = body.get("graph_id")
    if graph_id is not None:
        _require_graph(request, graph_id)
    config = dict(body.get("config") or {}) or None  # an empty config changes nothing
    context = body.get("context")
    configurable = (config or {}).get("configurable")
    if configurable and context:
        raise errors.BadRequest(BOTH_CONFIGURABLE_AND_CONTEXT)
    if configurable:
        context = configurable
    elif context and config is not None:
        config["configurable"] = context
    # context alone: the storage keeps the other config keys (the reference drops them)
    value = {"graph_id": graph_id, "config": config, "context": context,
             "metadata": body.get("metadata"), "name": body.get("name")}  # fmt: skip
    not_found = errors.NotFound(f"Assistant {assistant_id} not found")
    await guard.assistant(engine_of(request).storage, assistant_id, "update", value,
                          not_found=not_found)  # fmt: skip
    updated = await engine_of(request).storage.update_assistant(
        assistant_id,
        graph_id=graph_id,
        config=config,
        context=context,
        metadata=value["metadata"],
        name=body.get("name"),
        description=body.get("description"),
    )
    if updated is None:
        raise errors.NotFound(f"Assistant {assistant_id} not found")
    return JSONResponse(updated)


async def delete_assistant(request: Request) -> Response:
    assistant_id = _path_id(request)
    storage = engine_of(request).storage
    not_found = errors.NotFound(f"Assistant with ID {assistant_id} not found")
    await guard.assistant(storage, assistant_id, "delete", not_found=not_found)
    if await storage.get_assistant(assistant_id) is None:
        raise not_found
    if request.query_params.get("delete_threads", "").lower() == "true":
        await _delete_threads(request, assistant_id)
    await engine_of(request).cancel_assistant_runs(assistant_id)
    if not await storage.delete_assistant(assistant_id):
        raise errors.NotFound(f"Assistant with ID {assistant_id} not found")
    return Response(status_code=204)


async def _delete_threads(request: Request, assistant_id: str) -> None:
    """Delete every thread whose metadata names the assistant (with its runs and checkpoints)."""
    storage = engine_of(request).storage
    threads = thread_ops_of(request)
    visible = await authorize("threads", "delete", {"thread_id": None})  # only the user's
    while True:
        found, _ = await storage.search_threads(
            metadata={"assistant_id": assistant_id}, limit=100, visible=visible
        )
        deleted = [await threads.delete(t["thread_id"]) for t in found]
        if not any(deleted):  # nothing left, or nothing more can go
            return


# -- search and count --------------------------------------------------------------------------


async def _visible(
    body: dict[str, Any], graph_id: str | None, limit: int, offset: int
) -> tuple[dict[str, Any] | None, Conditions | None]:
    """`assistants.search`: the metadata to search (as the handler left it) and its filter."""
    value: dict[str, Any] = {"graph_id": graph_id, "metadata": body.get("metadata"),
                             "limit": limit, "offset": offset}  # fmt: skip
    visible = await guard.search("assistants", value)
    return value.get("metadata"), visible


async def search_assistants(request: Request) -> Response:
    body = await _body(request, schemas.ASSISTANT_SEARCH)
    graph_id = body.get("graph_id")
    if graph_id is not None:
        _require_graph(request, graph_id)
    engine = engine_of(request)
    limit, offset = int(body.get("limit", 10)), int(body.get("offset", 0))
    metadata, visible = await _visible(body, graph_id, limit, offset)
    found, total = await engine.storage.search_assistants(
        graph_id=graph_id,
        name=body.get("name"),
        metadata=metadata,
        visible=visible,
        limit=limit,
        offset=offset,
        sort_by=body.get("sort_by") or "created_at",
        # the reference ignores sort_order unless sort_by is given (always newest first)
        sort_order=body.get("sort_order") or "desc",
        graph_ids=list(engine.graphs),
    )
    items: list[Any] = list(found)
    if select := body.get("select"):
        items = [{k: v for k, v in a.items() if k in select} for a in found]
    # x-pagination-total is the real count. The reference sends offset+returned, plus one
    # when more rows exist (it reads one row past the page); both agree on the last page and
    # both put the next offset in x-pagination-next, the only header the SDK reads.
    headers = {"x-pagination-total": str(total)}
    if offset + len(found) < total:
        headers["x-pagination-next"] = str(offset + len(found))
    return JSONResponse(items, headers=headers)


async def count_assistants(request: Request) -> Response:
    body = await _body(request, schemas.ASSISTANT_COUNT)
    graph_id = body.get("graph_id")
    if graph_id is not None:
        _require_graph(request, graph_id)
    engine = engine_of(request)
    metadata, visible = await _visible(body, graph_id, 0, 0)
    count = await engine.storage.count_assistants(
        graph_id=graph_id,
        name=body.get("name"),
        metadata=metadata,
        visible=visible,
        graph_ids=list(engine.graphs),
    )
    return JSONResponse(count)


# -- versions ----------------------------------------------------------------------------------


async def list_versions(request: Request) -> Response:
    assistant_id = _path_id(request)
    body = await _body(request, schemas.ASSISTANT_VERSIONS)
    not_found = errors.NotFound(f"Assistant {assistant_id} not found")
    await guard.assistant(engine_of(request).storage, assistant_id, "read", not_found=not_found)
    versions = await engine_of(request).storage.list_assistant_versions(
        assistant_id,
        metadata=body.get("metadata"),
        limit=int(body.get("limit", 10)),
        offset=int(body.get("offset", 0)),
    )
    # 404 only for an unknown assistant; the reference also answers 404 (Assistant <id> not
    # found) when the metadata filter or the offset leaves no version, graphport a []
    if versions is None:
        raise errors.NotFound(f"Assistant {assistant_id} not found")
    return JSONResponse(versions)


async def set_latest(request: Request) -> Response:
    body = await _body(
        request, schemas.ASSISTANT_LATEST
    )  # the reference reads the body before the path
    assistant_id = _path_id(request)
    storage = engine_of(request).storage
    not_found = errors.NotFound(f"Assistant {assistant_id} not found")
    await guard.assistant(storage, assistant_id, "update", {"version": body.get("version")},
                          not_found=not_found)  # fmt: skip
    version = body.get("version")
    if version is None:  # not required by the schema; the reference then looks up "None"
        if await storage.get_assistant(assistant_id) is None:
            raise errors.NotFound(f"Assistant {assistant_id} not found")
        raise errors.NotFound(f"Version None not found for assistant {assistant_id}")
    return JSONResponse(await storage.set_latest_assistant_version(assistant_id, int(version)))


# -- the assistant's graph ---------------------------------------------------------------------


def _xray(request: Request) -> bool | int:
    raw = request.query_params.get("xray")
    if not raw or raw in ("false", "False"):
        return False
    if raw in ("true", "True"):
        return True
    try:
        xray = int(raw)
    except ValueError:
        xray = 0
    if xray <= 0:
        raise errors.ValidationFailed("Invalid xray value")
    return xray


def _resolve(request: Request, assistant: Assistant, entry: GraphEntry) -> Any:
    return engine_of(request).read_graph(assistant, entry)


async def get_graph(request: Request) -> Response:
    assistant, entry = await _assistant(request)
    xray = _xray(request)
    async with _resolve(request, assistant, entry) as graph:
        return JSONResponse(await graph_info.drawing(graph, xray))


async def get_schemas(request: Request) -> Response:
    assistant, entry = await _assistant(request)
    async with _resolve(request, assistant, entry) as graph:
        return JSONResponse({"graph_id": assistant["graph_id"], **graph_info.schemas(graph)})


async def get_subgraphs(request: Request) -> Response:
    assistant, entry = await _assistant(request)
    namespace = request.path_params.get("namespace")
    recurse = request.query_params.get("recurse", "") in ("true", "True")
    async with _resolve(request, assistant, entry) as graph:
        return JSONResponse(await graph_info.subgraph_schemas(graph, namespace, recurse))
