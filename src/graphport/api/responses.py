"""Responses shared by the routes: JSON, errors, and the long-poll body of wait/join."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from graphport import serde


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return serde.dumps(content)


def paged(items: list[Any], offset: int, total: int) -> Response:
    """A page of a search. x-pagination-total is the real count; the reference sends
    offset + returned, plus one when more rows exist (it reads one row past the page). Both agree
    on the last page and both put the next offset in x-pagination-next, the header the SDK reads."""
    headers = {"x-pagination-total": str(total)}
    if offset + len(items) < total:
        headers["x-pagination-next"] = str(offset + len(items))
    return JSONResponse(items, headers=headers)


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class WaitResponse:
    """`200 application/json` sent at once, then `\\n` every `keepalive` seconds while the run
    goes on, then the result body; the reference's framing for `/runs/wait` and `/join`.

    With `on_disconnect`, a client that goes away before the result calls it (to cancel the run).
    """

    def __init__(
        self,
        result: asyncio.Future[bytes] | Awaitable[bytes],
        headers: dict[str, str],
        keepalive: float,
        on_disconnect: Callable[[], None] | None = None,
    ) -> None:
        self.result = result
        self.headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        self.headers.append((b"content-type", b"application/json"))
        self.keepalive = keepalive
        self.on_disconnect = on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        result = asyncio.ensure_future(self.result)
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        watcher: asyncio.Task[None] | None = None
        if self.on_disconnect is not None and not result.done():
            watcher = asyncio.create_task(self._watch(receive, result))
        try:
            while not result.done():
                done, _ = await asyncio.wait((result,), timeout=self.keepalive)
                if not done:
                    try:
                        await send({"type": "http.response.body", "body": b"\n", "more_body": True})
                    except OSError:
                        break
            body = await result
        finally:
            if watcher is not None:
                watcher.cancel()
        await send({"type": "http.response.body", "body": body})

    async def _watch(self, receive: Receive, result: asyncio.Future[bytes]) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not result.done() and self.on_disconnect is not None:
                    self.on_disconnect()
                return
