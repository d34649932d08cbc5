"""Request bodies and path parameters -> checked Python values, or the reference's 422s."""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema_rs
import orjson
from starlette.requests import Request

from graphport import errors

# What a run can hold: orjson (rows, answers) and ormsgpack (checkpoints) stop at 255 levels, and
# a body's values sit a few levels deeper once stored (run kwargs, checkpoint channels, stream
# events). 200 keeps that margin; deeper bodies are refused before anything is stored.
MAX_NESTING = 200
TOO_DEEP = f"Request body is nested too deeply (limit: {MAX_NESTING} levels of objects and arrays)"


def loads(raw: bytes | str) -> Any:
    """JSON text -> value; orjson.JSONDecodeError when it is not JSON, ValidationFailed (422)
    when it is nested deeper than graphport can store."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):  # orjson's own limit, 1024 levels
            raise errors.ValidationFailed(TOO_DEEP) from None
        raise
    data = raw.encode() if isinstance(raw, str) else raw
    # Counting brackets is C-speed and rules out almost every body before the exact walk.
    if data.count(b"[") + data.count(b"{") > MAX_NESTING and _depth(value) > MAX_NESTING:
        raise errors.ValidationFailed(TOO_DEEP)
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


async def json_body(request: Request, max_bytes: int) -> Any:
    """The parsed JSON body; 413 above `max_bytes`, 422 when it is not JSON or too deep."""
    raw = await request.body()
    if len(raw) > max_bytes:
        raise errors.BodyTooLarge(f"Request body too large (limit: {max_bytes} bytes)")
    try:
        return loads(raw)
    except orjson.JSONDecodeError:
        raise errors.ValidationFailed("Invalid JSON in request body") from None


def validate(validator: Any, body: Any) -> None:
    try:
        validator.validate(body)
    except jsonschema_rs.ValidationError as exc:
        raise errors.ValidationFailed(str(exc)) from None


def path_uuid(value: str, what: str) -> str:
    """A path id as a canonical UUID string; 422 `Invalid <what> ID: must be a UUID`."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.ValidationFailed(f"Invalid {what} ID: must be a UUID") from None


def query_flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


def query_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.ValidationFailed(f"Invalid {name} {raw}") from None
