"""MemoryBus: run completion and live events inside one process (the default with SQLite).

Waiters register before a run can finish (the engine registers them when it creates the run),
so no completion is missed; nothing here polls.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class MemoryBus:
    def __init__(self) -> None:
        self._done: dict[str, list[asyncio.Future[bytes]]] = defaultdict(list)
        self._subscribers: dict[str, list[asyncio.Queue[Any]]] = defaultdict(list)

    # -- completion --------------------------------------------------------------------------

    def wait_done(self, run_id: str) -> asyncio.Future[bytes]:
        """A future resolved with the run's result body when it ends."""
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._done[run_id].append(fut)
        return fut

    def forget(self, run_id: str, fut: asyncio.Future[bytes]) -> None:
        waiters = self._done.get(run_id)
        if waiters and fut in waiters:
            waiters.remove(fut)
            if not waiters:
                del self._done[run_id]

    def done(self, run_id: str, body: bytes) -> None:
        for fut in self._done.pop(run_id, ()):
            if not fut.done():
                fut.set_result(body)
        for q in self._subscribers.pop(run_id, ()):
            q.put_nowait(None)

    def has_waiters(self, run_id: str) -> bool:
        return run_id in self._done

    # -- live events -------------------------------------------------------------------------

    def subscribe(self, run_id: str) -> asyncio.Queue[Any]:
        """A queue receiving (event, data) pairs of the run, then None when it ends."""
        q: asyncio.Queue[Any] = asyncio.Queue()
        self._subscribers[run_id].append(q)
        return q

    def unsubscribe(self, run_id: str, q: asyncio.Queue[Any]) -> None:
        subs = self._subscribers.get(run_id)
        if subs and q in subs:
            subs.remove(q)
            if not subs:
                del self._subscribers[run_id]

    def has_subscribers(self, run_id: str) -> bool:
        return run_id in self._subscribers

    def publish(self, run_id: str, event: str, data: Any) -> None:
        for q in self._subscribers.get(run_id, ()):
            q.put_nowait((event, data))
