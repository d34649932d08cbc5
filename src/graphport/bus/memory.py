"""MemoryBus: run completion and live run events inside one process (the default with SQLite).

Waiters and subscribers register before a run can finish (the engine registers them when it
creates the run, or they find the run already ended), so nothing is missed; nothing here polls.

Each run's events get a per-run sequence number; their SSE id is `<unix ms>-<seq>`, unique and
increasing within the run. Events of runs created with `stream_resumable` are kept (at most
`max_events` per run, for `retention` seconds after the run ends) so a client can resume after a
`Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from graphport.events import END, Event


class Listener(Protocol):
    """What another process may ask of this one: claim runs that became due, cancel a run."""

    def nudge(self) -> None: ...

    def cancel(self, run_id: str, reason: str) -> object: ...


@dataclass
class _RunLog:
    resumable: bool
    seq: int = 0
    events: list[Event] = field(default_factory=list)
    ended: bool = False


class MemoryBus:
    def __init__(self, retention: float = 600.0, max_events: int = 10_000) -> None:
        self.retention = retention
        self.max_events = max_events
        self._done: dict[str, list[asyncio.Future[bytes]]] = defaultdict(list)
        self._subscribers: dict[str, list[asyncio.Queue[Event | None]]] = defaultdict(list)
        self._logs: dict[str, _RunLog] = {}
        self._run_threads: dict[str, str] = {}
        self._thread_subscribers: dict[str, list[asyncio.Queue[Event | None]]] = defaultdict(list)
        self._thread_seq: dict[str, int] = defaultdict(int)

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

    def done(self, run_id: str, body: bytes, *, waited_elsewhere: bool = True) -> None:
        """The run has ended: wake its waiters, end its subscribers' streams.
        (`waited_elsewhere`: whether another process waits for it; see ClusterBus.)"""
        for fut in self._done.pop(run_id, ()):
            if not fut.done():
                fut.set_result(body)
        for q in self._subscribers.pop(run_id, ()):
            q.put_nowait(END)
        thread_id = self._run_threads.pop(run_id, None)
        if thread_id is not None:
            done = b'{"status":"run_done","run_id":"' + run_id.encode() + b'"}'
            self._to_thread(thread_id, "metadata", done)
        log = self._logs.get(run_id)
        if log is not None:
            log.ended = True
            if log.resumable:
                asyncio.get_running_loop().call_later(self.retention, self._logs.pop, run_id, None)
            else:
                del self._logs[run_id]

    # -- live events -------------------------------------------------------------------------

    def open_stream(self, run_id: str, *, resumable: bool, thread_id: str | None = None) -> None:
        """Called when the run starts executing."""
        self._logs[run_id] = _RunLog(resumable=resumable)
        if thread_id is not None:
            self._run_threads[run_id] = thread_id

    def wants_events(self, run_id: str) -> bool:
        """Whether publishing now reaches anyone (a subscriber, or a resumable log)."""
        if run_id in self._subscribers:
            return True
        if self._run_threads.get(run_id) in self._thread_subscribers:
            return True
        log = self._logs.get(run_id)
        return log is not None and log.resumable

    def publish(self, run_id: str, event: str, data: bytes) -> Event:
        log = self._logs.get(run_id)
        if log is None:
            log = self._logs[run_id] = _RunLog(resumable=False)
        log.seq += 1
        item = Event(f"{int(time.time() * 1000)}-{log.seq}", log.seq, event, data)
        self._dispatch(run_id, log, item)
        return item

    def _dispatch(self, run_id: str, log: _RunLog, item: Event) -> None:
        """Keep (if resumable) and hand out one event of a run to this process's followers."""
        if log.resumable:
            log.events.append(item)
            if len(log.events) > self.max_events:
                del log.events[0]
        for q in self._subscribers.get(run_id, ()):
            q.put_nowait(item)
        thread_id = self._run_threads.get(run_id)
        if thread_id is not None and thread_id in self._thread_subscribers:
            self._to_thread(thread_id, item.event, item.data)

    # -- thread streams ----------------------------------------------------------------------

    def publish_thread(self, thread_id: str, event: str, data: bytes) -> None:
        """An event for everyone following the thread (its runs' events, state updates)."""
        self._to_thread(thread_id, event, data)

    def _to_thread(self, thread_id: str, event: str, data: bytes) -> None:
        subscribers = self._thread_subscribers.get(thread_id)
        if not subscribers:
            return
        self._thread_seq[thread_id] += 1
        seq = self._thread_seq[thread_id]
        item = Event(f"{int(time.time() * 1000)}-{seq}", seq, event, data)
        for q in subscribers:
            q.put_nowait(item)

    def subscribe_thread(self, thread_id: str) -> asyncio.Queue[Event | None]:
        q: asyncio.Queue[Event | None] = asyncio.Queue()
        self._thread_subscribers[thread_id].append(q)
        return q

    def unsubscribe_thread(self, thread_id: str, q: asyncio.Queue[Event | None]) -> None:
        subs = self._thread_subscribers.get(thread_id)
        if subs and q in subs:
            subs.remove(q)
            if not subs:
                del self._thread_subscribers[thread_id]
                self._thread_seq.pop(thread_id, None)

    def subscribe(self, run_id: str, after: int | None = None) -> asyncio.Queue[Event | None]:
        """A queue of the run's events: first the kept ones after sequence `after` (when given),
        then live ones, then END. A run already ended (or unknown) gives its kept events and END.
        """
        q: asyncio.Queue[Event | None] = asyncio.Queue()
        log = self._logs.get(run_id)
        if after is not None and log is not None:
            for item in log.events:
                if item.seq > after:
                    q.put_nowait(item)
        if log is not None and log.ended:
            q.put_nowait(END)
        else:
            self._subscribers[run_id].append(q)
        return q

    def unsubscribe(self, run_id: str, q: asyncio.Queue[Event | None]) -> None:
        subs = self._subscribers.get(run_id)
        if subs and q in subs:
            subs.remove(q)
            if not subs:
                del self._subscribers[run_id]

    # -- other processes (see cluster.py; with one process there are none) ------------------

    async def start(self, listener: Listener | None = None) -> None:
        """Start listening; `listener` is told what other processes ask of this one (with one
        process, nobody asks). Handed here, not to the constructor, because the worker that
        listens is itself built with this bus."""
        return None

    async def stop(self) -> None:
        return None

    def wake_others(self) -> None:
        """Pending runs may be claimable: tell the other processes."""

    def cancel_elsewhere(self, run_id: str, action: str) -> None:
        """Ask whichever other process executes the run to cancel it."""

    def keep_only(self, processes: set[str]) -> None:
        """Forget what processes not in `processes` (the live ones) asked of this one."""

    def ended(self, run_id: str) -> bool:
        log = self._logs.get(run_id)
        return log is not None and log.ended
