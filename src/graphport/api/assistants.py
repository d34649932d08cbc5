"""Assistant routes: create, search, count, get, update (a new version), delete, versions, and
the graph, schemas and subgraphs of an assistant's graph.

Wherever a path names an assistant, a graph id stands for the graph's default assistant (the
reference does so only for `/graph`, spec §7 #11).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api import schemas
from graphport.api.bodies import json_body, path_uuid, validate
from graphport.api.responses import JSONResponse, paged
from graphport.api.state import assistants_of, engine_of, settings_of
from graphport.engine import graph_info
from graphport.graphs import GraphEntry
from graphport.models import Assistant

# -- helpers -----------------------------------------------------------------------------------


async def _body(request: Request, validator: Any) -> dict[str, Any]:
    body: dict[str, Any] = await json_body(request, settings_of(request).max_body_bytes)
    validate(validator, body)
    return body


def _path_id(request: Request) -> str:
    """The assistant id of the path: a UUID, or a graph id for the graph's default assistant."""
    raw = request.path_params["assistant_id"]
    return assistants_of(request).default_for(raw) or path_uuid(raw, "assistant")


def _check_config(body: dict[str, Any]) -> None:
    if body.get("config"):
        validate(schemas.ASSISTANT_CONFIG, body["config"])


async def _assistant(request: Request) -> tuple[Assistant, GraphEntry]:
    return await assistants_of(request).get(_path_id(request))


# -- create, read, update, delete --------------------------------------------------------------


async def create_assistant(request: Request) -> Response:
    body = await _body(request, schemas.ASSISTANT_CREATE)
    if body.get("assistant_id"):  # the id's 422 comes before the config's
        path_uuid(str(body["assistant_id"]), "assistant")
    _check_config(body)
    return JSONResponse(await assistants_of(request).create(body))


async def get_assistant(request: Request) -> Response:
    assistant, _ = await _assistant(request)
    return JSONResponse(assistant)


async def patch_assistant(request: Request) -> Response:
    assistant_id = _path_id(request)
    body = await _body(request, schemas.ASSISTANT_PATCH)
    _check_config(body)
    return JSONResponse(await assistants_of(request).update(assistant_id, body))


async def delete_assistant(request: Request) -> Response:
    with_threads = request.query_params.get("delete_threads", "").lower() == "true"
    await assistants_of(request).delete(_path_id(request), with_threads=with_threads)
    return Response(status_code=204)


# -- search and count --------------------------------------------------------------------------


async def search_assistants(request: Request) -> Response:
    body = await _body(request, schemas.ASSISTANT_SEARCH)
    found, total = await assistants_of(request).search(body)
    items: list[Any] = list(found)
    if select := body.get("select"):
        items = [{k: v for k, v in a.items() if k in select} for a in found]
    return paged(items, int(body.get("offset", 0)), total)


async def count_assistants(request: Request) -> Response:
    body = await _body(request, schemas.ASSISTANT_COUNT)
    return JSONResponse(await assistants_of(request).count(body))


# -- versions ----------------------------------------------------------------------------------


async def list_versions(request: Request) -> Response:
    assistant_id = _path_id(request)
    body = await _body(request, schemas.ASSISTANT_VERSIONS)
    return JSONResponse(await assistants_of(request).versions(assistant_id, body))


async def set_latest(request: Request) -> Response:
    # the reference reads the body before the path
    body = await _body(request, schemas.ASSISTANT_LATEST)
    assistant_id = _path_id(request)
    return JSONResponse(await assistants_of(request).set_latest(assistant_id, body.get("version")))


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
