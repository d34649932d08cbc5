"""Request bodies and path parameters -> checked Python values, or the reference's 422s."""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema_rs
import orjson
from starlette.requests import Request

from graphport import errors


async def json_body(request: Request, max_bytes: int) -> Any:
    """The parsed JSON body; 413 above `max_bytes`, 422 when it is not JSON."""
    raw = await request.body()
    if len(raw) > max_bytes:
        raise errors.BodyTooLarge(f"Request body too large (limit: {max_bytes} bytes)")
    try:
        return orjson.loads(raw)
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
