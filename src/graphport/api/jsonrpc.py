"""JSON-RPC 2.0 envelopes shared by the MCP and A2A routes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from graphport import errors
from graphport.api.bodies import loads
from graphport.api.responses import JSONResponse

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class RpcError(Exception):
    """Answered as the request's JSON-RPC `error` (HTTP 200 unless `status` says otherwise)."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def from_error(exc: errors.GraphportError) -> RpcError:
    """An error of the engine (a hidden thread, a handler's 403) as a JSON-RPC error: the
    caller's fault is invalid params (or request, when refused), ours an internal error."""
    if exc.status_code in (401, 403):
        return RpcError(INVALID_REQUEST, exc.detail)
    return RpcError(INVALID_PARAMS if exc.status_code < 500 else INTERNAL_ERROR, exc.detail)


def result(request_id: Any, value: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": value}


def error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def error_response(request_id: Any, exc: RpcError) -> JSONResponse:
    return JSONResponse(error(request_id, exc.code, exc.message), status_code=exc.status)


async def read_message(request: Request, max_bytes: int, *, status: int) -> dict[str, Any]:
    """The body as one JSON-RPC message object; RpcError (with `status`) when it is not."""
    raw = await request.body()
    if len(raw) > max_bytes:
        raise RpcError(INVALID_REQUEST, f"Request body too large (limit: {max_bytes} bytes)", 413)
    try:
        message = loads(raw)
    except orjson.JSONDecodeError:
        raise RpcError(PARSE_ERROR, "Parse error: the body is not JSON", status) from None
    except errors.ValidationFailed as exc:
        raise RpcError(INVALID_REQUEST, f"Invalid request: {exc.detail}", status) from None
    if not isinstance(message, dict):
        raise RpcError(INVALID_REQUEST, "Invalid request: expected one JSON-RPC object", status)
    if message.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0"', status)
    return message


def params_of(message: dict[str, Any]) -> dict[str, Any]:
    params = message.get("params")
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: expected an object")
    return params
