"""Store routes: long-term memory shared across threads, in langgraph's own store."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graphport import auth, errors
from graphport.api import schemas
from graphport.api.bodies import json_body, validate
from graphport.api.responses import JSONResponse
from graphport.api.state import engine_of, settings_of


def _store(request: Request) -> Any:
    return engine_of(request).store


def _namespace(value: Any, *, optional: bool = False) -> tuple[str, ...] | None:
    """A namespace as a tuple of labels (non-empty strings without periods), or a 422."""
    if value is None and optional:
        return None
    if not isinstance(value, list | tuple):
        raise errors.ValidationFailed("Namespace must be a list of labels")
    for label in value:
        if not isinstance(label, str) or not label or "." in label:
            raise errors.ValidationFailed(
                f"Namespace label {label!r} must be a non-empty string without periods"
            )
    return tuple(value)


async def _object(request: Request) -> dict[str, Any]:
    body = await json_body(request, settings_of(request).max_body_bytes)
    if not isinstance(body, dict):
        raise errors.ValidationFailed("Request body must be a JSON object")
    return body


def _item(item: Any) -> dict[str, Any] | None:
    if item is None:
        return None
    data: dict[str, Any] = item.dict()
    for field in ("created_at", "updated_at"):
        stamp = getattr(item, field)
        if stamp.tzinfo is None:  # SQLite's CURRENT_TIMESTAMP: UTC, said as the API says it
            data[field] = stamp.replace(tzinfo=UTC).isoformat()
    return data


async def _authorize(action: str, value: dict[str, Any]) -> dict[str, Any]:
    """`store.<action>`: the value as the handler left it (it may move the item to another
    namespace, e.g. under the user's id). Store handlers allow or deny: a filter has nothing
    to apply to here, so one is refused rather than ignored."""
    if auth.current() is None:
        return value
    if await auth.authorize("store", action, value):
        raise errors.GraphportError(
            f"The auth module is broken: a store handler ({action}) returned a filter; store "
            "handlers allow, deny or rewrite value['namespace']"
        )
    if value.get("namespace") is not None:
        value["namespace"] = _namespace(list(value["namespace"]))
    return value


async def put_item(request: Request) -> Response:
    body = await _object(request)
    namespace = _namespace(body.get("namespace"))
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise errors.ValidationFailed("key must be a non-empty string")
    value = body.get("value")
    if not isinstance(value, dict):
        raise errors.ValidationFailed("value must be an object")
    validate(schemas.STORE_PUT_TYPES, body)
    kwargs: dict[str, Any] = {}
    if body.get("index") is not None:  # false: not indexed; a list: these fields
        kwargs["index"] = body["index"]
    if body.get("ttl") is not None:  # minutes; absent: store.ttl.default_ttl
        kwargs["ttl"] = body["ttl"]
    allowed = await _authorize("put", {"namespace": namespace, "key": key, "value": value,
                                       "index": body.get("index"),
                                       "ttl": body.get("ttl")})  # fmt: skip
    namespace, key, value = allowed["namespace"], allowed["key"], allowed["value"]
    await _store(request).aput(namespace, key, value, **kwargs)
    return Response(status_code=204)


async def get_item(request: Request) -> Response:
    namespace = _namespace(request.query_params.get("namespace", "").split("."))
    key = request.query_params.get("key")
    if not key:
        return JSONResponse({"error": "Key is required"}, status_code=400)
    refresh = request.query_params.get("refresh_ttl")
    refresh_ttl = None if refresh is None else refresh.lower() == "true"
    allowed = await _authorize("get", {"namespace": namespace, "key": key,
                                       "refresh_ttl": refresh_ttl})  # fmt: skip
    namespace, key = allowed["namespace"], allowed["key"]
    item = await _store(request).aget(namespace, key, refresh_ttl=refresh_ttl)
    return JSONResponse(_item(item))


async def delete_item(request: Request) -> Response:
    body = await _object(request)
    namespace = _namespace(body.get("namespace") or [])
    allowed = await _authorize("delete", {"namespace": namespace, "key": body.get("key")})
    await _store(request).adelete(allowed["namespace"], allowed["key"])
    return Response(status_code=204)


async def search_items(request: Request) -> Response:
    body = await _object(request)
    validate(schemas.STORE_SEARCH_TYPES, body)
    prefix = _namespace(body.get("namespace_prefix") or [])
    allowed = await _authorize("search", {
        "namespace": prefix, "filter": body.get("filter"), "limit": int(body.get("limit") or 10),
        "offset": int(body.get("offset") or 0), "query": body.get("query"),
        "refresh_ttl": body.get("refresh_ttl"),
    })  # fmt: skip
    items = await _store(request).asearch(
        allowed["namespace"],
        filter=allowed["filter"],
        limit=allowed["limit"],
        offset=allowed["offset"],
        query=allowed["query"],
        refresh_ttl=body.get("refresh_ttl"),
    )
    return JSONResponse({"items": [_item(i) for i in items]})


async def list_namespaces(request: Request) -> Response:
    body = await _object(request)
    allowed = await _authorize("list_namespaces", {
        "namespace": _namespace(body.get("prefix") or []),  # () for none: handlers extend it
        "suffix": _namespace(body.get("suffix") or None, optional=True),
        "max_depth": body.get("max_depth"),
        "limit": body.get("limit", 100),
        "offset": body.get("offset", 0),
    })  # fmt: skip
    suffix = allowed["suffix"]
    result = await _store(request).alist_namespaces(
        prefix=allowed["namespace"] or None,
        suffix=_namespace(list(suffix), optional=True) if suffix is not None else None,
        max_depth=allowed["max_depth"],
        limit=allowed["limit"],
        offset=allowed["offset"],
    )
    return JSONResponse({"namespaces": [list(ns) for ns in result]})
