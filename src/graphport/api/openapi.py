"""GET /openapi.json: an OpenAPI 3.1 document of the routes this server serves.

The routes are read from the application itself (so disabled groups are left out and a
`mount_prefix` shows in the paths); request schemas come from the documents the routes validate
with (api/schemas.py), never written twice. A route describes itself further with `describe`
(other parts of graphport add theirs the same way). A FastAPI `http.app`'s own document is
merged in.
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
from graphport.api import schemas
from graphport.api.responses import JSONResponse

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_ERROR = {
    "type": "object",
    "title": "ErrorResponse",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# endpoint -> extra operation fields (requestBody schema name, tags, summary)
DESCRIPTIONS: dict[Callable[..., Any], dict[str, Any]] = {}


def describe(endpoint: Callable[..., Any], **operation: Any) -> None:
    """Declare what `endpoint` takes and answers: `body` (a components schema name), `tags`,
    `summary`, `responses` (status -> description)."""
    DESCRIPTIONS[endpoint] = operation


def _walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Route):
            if route.include_in_schema:  # aliases are left out
                yield prefix + route.path, route
        elif isinstance(route, Mount):
            yield from _walk(list(route.routes), prefix + route.path)
        elif hasattr(route, "routes"):  # graphport.http_app.Group
            yield from _walk(list(route.routes), prefix)


def _tag(path: str) -> str:
    if "/runs" in path:
        return "Thread Runs" if path.startswith("/threads") else "Stateless Runs"
    first = path.strip("/").split("/")[0] or "system"
    return first.capitalize()


def _operation(path: str, method: str, route: Route) -> dict[str, Any]:
    extra = DESCRIPTIONS.get(route.endpoint, {})
    doc = (route.endpoint.__doc__ or "").strip().splitlines()
    op: dict[str, Any] = {
        "tags": extra.get("tags", [_tag(path)]),
        "summary": extra.get("summary") or (doc[0] if doc else route.name.replace("_", " ")),
        "operationId": f"{route.name}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}"
        f"_{method}",
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": {}}}},
            **{
                code: {"description": text, "content": _ERROR_BODY}
                for code, text in extra.get(
                    "responses", {"404": "Not Found", "422": "Validation Error"}
                ).items()
            },
        },
    }
    params = re.findall(r"{([^}:]+)(?::[^}]*)?}", path)
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ]
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
            paths.setdefault(clean, {})[method.lower()] = _operation(clean, method.lower(), route)
    components: dict[str, Any] = {
        "ErrorResponse": _ERROR,
        **schemas.COMPONENTS["schemas"],
    }
    for path, item in custom_paths.items():
        paths.setdefault(path, {}).update(item)
    components.update((custom.get("components") or {}).get("schemas") or {})
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "graphport", "version": __version__},
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
