"""Server-sent events as the reference frames them (spec §6.6).

`event: <name>\\r\\ndata: <json>\\r\\n[id: <id>\\r\\n]\\r\\n`, a `: heartbeat` comment every
`heartbeat` seconds (a timer from the start of the response), and the stream closes when the run
ends. A client that goes away stops the stream (and, with `on_disconnect`, cancels the run).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from graphport.events import END, Event

HEARTBEAT = b": heartbeat\r\n\r\n"
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


def frame(event: str, data: bytes, event_id: str | None = None) -> bytes:
    out = b"event: " + event.encode() + b"\r\ndata: " + data + b"\r\n"
    if event_id is not None:
        out += b"id: " + event_id.encode() + b"\r\n"
    return out + b"\r\n"


class EventStreamResponse:
    def __init__(
        self,
        queue: asyncio.Queue[Event | None],
        headers: dict[str, str],
        *,
        heartbeat: float,
        with_ids: bool,
        modes: set[str] | None = None,
        accept: Callable[[Event], bool] | None = None,
        on_close: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        first: list[bytes] | None = None,
    ) -> None:
        self.queue = queue
        self.headers = SSE_HEADERS + [(k.encode(), v.encode()) for k, v in headers.items()]
        self.heartbeat = heartbeat
        self.with_ids = with_ids
        self.modes = modes
        self.accept = accept
        self.on_close = on_close
        self.on_disconnect = on_disconnect
        self.first = first or []

    def _wanted(self, event: str) -> bool:
        if not self.modes or event in ("metadata", "error", "feedback"):
            return True
        base = event.split("|", 1)[0]
        return base in self.modes or base.split("/", 1)[0] in self.modes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        gone = asyncio.Event()
        watcher = asyncio.create_task(self._watch(receive, gone))
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self.heartbeat
        try:
            for chunk in self.first:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            while not gone.is_set():
                try:
                    item = await asyncio.wait_for(
                        self.queue.get(), timeout=max(0.0, next_beat - loop.time())
                    )
                except TimeoutError:
                    await send({"type": "http.response.body", "body": HEARTBEAT, "more_body": True})
                    next_beat += self.heartbeat
                    continue
                if item is END:
                    break
                if self.accept(item) if self.accept else self._wanted(item.event):
                    body = frame(item.event, item.data, item.id if self.with_ids else None)
                    await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except OSError:
            pass
        finally:
            watcher.cancel()
            if self.on_close is not None:
                self.on_close()

    async def _watch(self, receive: Receive, gone: asyncio.Event) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                message: Any = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    if self.on_disconnect is not None:
                        self.on_disconnect()
                    self.queue.put_nowait(END)
                    return
