"""GET /openapi.json: an OpenAPI 3.1 document of the routes this server serves.

The routes are read from the application itself (so disabled groups are left out and a
`mount_prefix` shows in the paths); request schemas come from the documents the routes validate
with (api/schemas.py), never written twice, and response schemas from api/response_schemas.py.
graphport.api.descriptions says, route by route with `describe`, what each takes and answers.
A FastAPI `http.app`'s own document is merged in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from graphport import __version__
from graphport.api import response_schemas, schemas
from graphport.api.responses import JSONResponse

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_ERROR = {
    "type": "object",
    "title": "ErrorResponse",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# (endpoint, method or None for all of its methods) -> what the operation takes and answers
DESCRIPTIONS: dict[tuple[Callable[..., Any], str | None], dict[str, Any]] = {}
_NO_CONTENT = {"204", "202"}


def describe(endpoint: Callable[..., Any], method: str | None = None, **operation: Any) -> None:
    """Declare what `endpoint` takes and answers (graphport.api.descriptions holds them all):
    `body` (a components schema name), `query` (parameters from `query()`), `answers` (the
    success body's schema), `status` (the success status: "200" unless given; None for none),
    `stream` (answers Server-Sent Events), `media` (a content type other than JSON), `tags`,
    `summary` and `responses` (error status -> description). `method` narrows it to one
    method."""
    DESCRIPTIONS[(endpoint, method)] = operation


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A query parameter of an operation."""
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    return {**parameter, "description": description} if description else parameter


def _walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Route):
            if route.include_in_schema:  # aliases are left out
                yield prefix + route.path, route
        elif isinstance(route, Mount):
            yield from _walk(list(route.routes), prefix + route.path)
        elif hasattr(route, "routes"):  # graphport.http_app.Group
            yield from _walk(list(route.routes), prefix)


# The API reference's tags, in its order
TAGS = {
    "Assistants": "An assistant is a configured instance of a graph.",
    "Threads": "A thread holds the accumulated state of a group of runs.",
    "Thread Runs": "Runs of an assistant on a thread: they update the thread's state.",
    "Stateless Runs": "Runs of an assistant that keep no state.",
    "Crons": "Runs that recur on a schedule, each on its own thread or on one shared thread.",
    "Store": "A key-value store (long-term memory) shared by every thread.",
    "A2A": "Every assistant as an Agent2Agent agent.",
    "MCP": "Every assistant as a tool of a Model Context Protocol server.",
    "System": "Health, metrics, server information and this description.",
}
_FIRST_SEGMENT_TAGS = {
    "assistants": "Assistants",
    "threads": "Threads",
    "store": "Store",
    "mcp": "MCP",
    "a2a": "A2A",
    ".well-known": "A2A",
    "": "System",
    "ok": "System",
    "info": "System",
    "metrics": "System",
    "docs": "System",
    "openapi.json": "System",
}


def _tag(path: str) -> str:
    if "/crons" in path:
        return "Crons"
    if "/runs" in path or path.startswith("/feedback"):
        return "Thread Runs" if path.startswith("/threads") else "Stateless Runs"
    first = path.strip("/").split("/")[0]
    return _FIRST_SEGMENT_TAGS.get(first) or first.capitalize()


def _success(extra: dict[str, Any]) -> dict[str, Any]:
    status = extra.get("status", "200")
    if status is None:  # the route never succeeds (an answer the protocol asks for)
        return {}
    if status in _NO_CONTENT:
        return {status: {"description": "Success"}}
    if extra.get("stream"):
        content = {"text/event-stream": {"schema": {"type": "string"}}}
    else:
        media = extra.get("media", "application/json")
        content = {media: {"schema": extra.get("answers", {})}}
    return {status: {"description": "Success", "content": content}}


def _operation(path: str, method: str, route: Route, prefix: str) -> dict[str, Any]:
    extra = {
        **DESCRIPTIONS.get((route.endpoint, None), {}),
        **DESCRIPTIONS.get((route.endpoint, method), {}),
    }
    doc = (route.endpoint.__doc__ or "").strip().splitlines()
    errors = extra.get("responses", {"404": "Not Found", "422": "Validation Error"})
    op: dict[str, Any] = {
        "tags": extra.get("tags", [_tag(path.removeprefix(prefix))]),
        "summary": extra.get("summary") or (doc[0] if doc else route.name.replace("_", " ")),
        "operationId": f"{route.name}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}"
        f"_{method}",
        "responses": {
            **_success(extra),
            **{code: {"description": why, "content": _ERROR_BODY} for code, why in errors.items()},
        },
    }
    params = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in re.findall(r"{([^}:]+)(?::[^}]*)?}", path)
    ]
    params += extra.get("query", [])
    if params:
        op["parameters"] = params
    if extra.get("body"):
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{extra['body']}"}}
            },
        }
    return op


def document(app: Any) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    custom = getattr(app.state, "custom_openapi", None) or {}
    prefix = app.state.settings.http.get("mount_prefix") or ""
    custom_paths = {prefix + p: item for p, item in (custom.get("paths") or {}).items()}
    for path, route in _walk(list(app.router.routes)):
        clean = re.sub(r"{([^}:]+):[^}]*}", r"{\1}", path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if method.lower() in (custom_paths.get(clean) or {}):
                continue  # the FastAPI app's own description of it is better
            operation = _operation(clean, method.lower(), route, prefix)
            paths.setdefault(clean, {})[method.lower()] = operation
    components: dict[str, Any] = {
        "ErrorResponse": _ERROR,
        **schemas.COMPONENTS["schemas"],
        **schemas.DOCUMENTS,
        **response_schemas.SCHEMAS,
    }
    for path, item in custom_paths.items():
        paths.setdefault(path, {}).update(item)
    components.update((custom.get("components") or {}).get("schemas") or {})
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "graphport", "version": __version__},
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {"schemas": components},
    }
    # `auth.openapi` of langgraph.json: how clients authenticate (e.g. a bearer scheme)
    security = app.state.settings.auth.get("openapi") or {}
    if security.get("securitySchemes"):
        document["components"]["securitySchemes"] = dict(security["securitySchemes"])
    if security.get("security") is not None:
        document["security"] = list(security["security"])
    return document


async def openapi(request: Request) -> Response:
    return JSONResponse(document(request.app))


_STATIC = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>graphport API</title>
<link rel="stylesheet" href="{base}/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="{base}/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{base}/openapi.json", dom_id: "#ui"}});</script></body></html>
"""


async def docs(request: Request) -> Response:
    """The API explorer (Swagger UI, shipped in the package: no CDN)."""
    base = request.url.path.removesuffix("/docs")
    return Response(_PAGE.format(base=base), media_type="text/html")


async def docs_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _ASSETS:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    return Response((_STATIC / name).read_bytes(), media_type=_ASSETS[name])
