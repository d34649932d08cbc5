"""ClusterBus: the MemoryBus of one process, joined to the other processes sharing the database.

Each process keeps its own waiters, subscribers and resumable logs (MemoryBus); a transport
(PostgreSQL LISTEN/NOTIFY, or Redis pub/sub) carries what the others must hear, in order:

  w  wake      pending runs may be claimable (a run was left pending, runs were requeued)
  d  done      a run ended: its result body, sent only where another process waits for it
               (storage says so: `mark_waited`), follows it or its thread, or keeps its events
  e  event     a live event of a run, sent only while another process follows the run or its
               thread, or when the run is resumable (every process keeps a copy then)
  t  thread    an event of a thread outside any run (a state update), while followed elsewhere
  s  follow    "I follow this run's events"       (sent by a subscriber's process)
  f / u        "I (un)follow this thread's events"
  c  cancel    "whoever executes this run: cancel it"

A message is `kind|key|origin|rest`; receivers skip their own and, before decoding anything,
the ones about runs they have no interest in. A follower that subscribes to a run while it
executes elsewhere sees its events from the moment the executing process hears of it: live
streams start "now", as a join does; resumable runs are replayed from every process's copy.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from graphport.bus.memory import Listener, MemoryBus, _RunLog
from graphport.events import END, Event

log = logging.getLogger("graphport.bus")


class Transport(Protocol):
    """An ordered broadcast pipe between the processes sharing one database."""

    async def start(self, on_message: Callable[[str], None]) -> None: ...

    def send(self, message: str) -> None:
        """Queue a message for every other process; never blocks, keeps the order."""

    async def stop(self) -> None: ...


class ClusterBus(MemoryBus):
    def __init__(
        self,
        transport: Transport,
        retention: float = 600.0,
        max_events: int = 10_000,
        origin: str = "",
    ) -> None:
        super().__init__(retention, max_events)
        self.transport = transport
        # this process's name on the bus: its storage `worker_id`, so that follows of a process
        # that stopped heartbeating can be forgotten (`keep_only`)
        self.origin = origin or uuid.uuid4().hex
        self._listener: Listener | None = None
        self._executing: set[str] = set()  # runs whose events this process produces
        self._followed_runs: dict[str, set[str]] = defaultdict(set)  # run -> other processes
        self._followed_threads: dict[str, set[str]] = defaultdict(set)  # thread -> processes
        self._resumable: set[str] = set()

    async def start(self, listener: Listener | None = None) -> None:
        self._listener = listener
        await self.transport.start(self._receive)

    async def stop(self) -> None:
        await self.transport.stop()

    def _send(self, kind: str, key: str, rest: str = "") -> None:
        self.transport.send(f"{kind}|{key}|{self.origin}|{rest}")

    # -- what this process tells the others --------------------------------------------------

    def wake_others(self) -> None:
        self._send("w", "")

    def cancel_elsewhere(self, run_id: str, action: str) -> None:
        self._send("c", run_id, action)

    def open_stream(self, run_id: str, *, resumable: bool, thread_id: str | None = None) -> None:
        super().open_stream(run_id, resumable=resumable, thread_id=thread_id)
        self._executing.add(run_id)
        if resumable:
            self._resumable.add(run_id)

    def wants_events(self, run_id: str) -> bool:
        if super().wants_events(run_id) or run_id in self._followed_runs:
            return True
        return self._run_threads.get(run_id) in self._followed_threads

    def publish(self, run_id: str, event: str, data: bytes) -> Event:
        item = super().publish(run_id, event, data)
        thread_id = self._run_threads.get(run_id, "")
        if (
            run_id in self._resumable
            or run_id in self._followed_runs
            or thread_id in self._followed_threads
        ):
            resumable = "1" if run_id in self._resumable else "0"
            rest = f"{thread_id}|{resumable}|{item.seq}|{item.id}|{event}|{data.decode()}"
            self._send("e", run_id, rest)
        return item

    def publish_thread(self, thread_id: str, event: str, data: bytes) -> None:
        super().publish_thread(thread_id, event, data)
        if thread_id in self._followed_threads:
            self._send("t", thread_id, f"{event}|{data.decode()}")

    def done(self, run_id: str, body: bytes, *, waited_elsewhere: bool = True) -> None:
        thread_id = self._run_threads.get(run_id, "")
        super().done(run_id, body)
        self._executing.discard(run_id)
        followed = self._followed_runs.pop(run_id, None) is not None
        if run_id in self._resumable:
            self._resumable.discard(run_id)
            followed = True  # every process keeps a copy of its events, and ends it
        # A waiter elsewhere flagged the run in storage atomically with its end, so this
        # cannot miss one; a follower of the run or its thread sees what it heard of.
        if waited_elsewhere or followed or thread_id in self._followed_threads:
            self._send("d", run_id, f"{thread_id}|{body.decode()}")

    def subscribe(self, run_id: str, after: int | None = None) -> asyncio.Queue[Event | None]:
        q = super().subscribe(run_id, after)
        if run_id not in self._executing and not self.ended(run_id):
            self._send("s", run_id)
        return q

    def subscribe_thread(self, thread_id: str) -> asyncio.Queue[Event | None]:
        first = thread_id not in self._thread_subscribers
        q = super().subscribe_thread(thread_id)
        if first:
            self._send("f", thread_id)
        return q

    def unsubscribe_thread(self, thread_id: str, q: asyncio.Queue[Event | None]) -> None:
        super().unsubscribe_thread(thread_id, q)
        if thread_id not in self._thread_subscribers:
            self._send("u", thread_id)

    def keep_only(self, processes: set[str]) -> None:
        for follows in (self._followed_runs, self._followed_threads):
            for key, followers in list(follows.items()):
                followers &= processes
                if not followers:
                    del follows[key]

    # -- what the others tell this process ---------------------------------------------------

    def _receive(self, message: str) -> None:
        kind, key, origin, rest = message.split("|", 3)
        if origin == self.origin:
            return
        try:
            handler = self._handlers[kind]
        except KeyError:
            log.warning("unknown bus message kind %r", kind)
            return
        handler(self, key, origin, rest)

    def _on_wake(self, key: str, origin: str, rest: str) -> None:
        if self._listener is not None:
            self._listener.nudge()

    def _on_cancel(self, run_id: str, origin: str, action: str) -> None:
        if self._listener is not None:
            self._listener.cancel(run_id, action)

    def _on_follow_run(self, run_id: str, origin: str, rest: str) -> None:
        self._followed_runs[run_id].add(origin)

    def _on_follow_thread(self, thread_id: str, origin: str, rest: str) -> None:
        self._followed_threads[thread_id].add(origin)

    def _on_unfollow_thread(self, thread_id: str, origin: str, rest: str) -> None:
        followers = self._followed_threads.get(thread_id)
        if followers is not None:
            followers.discard(origin)
            if not followers:
                del self._followed_threads[thread_id]

    def _on_event(self, run_id: str, origin: str, rest: str) -> None:
        thread_id, resumable, rest = rest.split("|", 2)
        keep = resumable == "1"
        followed = run_id in self._subscribers or thread_id in self._thread_subscribers
        if not keep and not followed:
            return  # without looking at the event itself
        seq, event_id, event, data = rest.split("|", 3)
        run_log = self._logs.get(run_id)
        if run_log is None:
            run_log = self._logs[run_id] = _RunLog(resumable=keep)
        if thread_id and thread_id in self._thread_subscribers:
            self._run_threads[run_id] = thread_id
        run_log.seq = int(seq)
        self._dispatch(run_id, run_log, Event(event_id, int(seq), event, data.encode()))

    def _on_thread_event(self, thread_id: str, origin: str, rest: str) -> None:
        if thread_id in self._thread_subscribers:
            event, data = rest.split("|", 1)
            self._to_thread(thread_id, event, data.encode())

    def _on_done(self, run_id: str, origin: str, rest: str) -> None:
        self._followed_runs.pop(run_id, None)  # followed here, executed elsewhere
        thread_id, body = rest.split("|", 1)
        if (
            run_id not in self._done
            and run_id not in self._subscribers
            and run_id not in self._logs
            and thread_id not in self._thread_subscribers
        ):
            return  # nobody here waits for it or follows it
        if thread_id and thread_id in self._thread_subscribers:
            self._run_threads[run_id] = thread_id
        super().done(run_id, body.encode())

    _handlers: dict[str, Callable[[ClusterBus, str, str, str], None]] = {
        "w": _on_wake,
        "c": _on_cancel,
        "s": _on_follow_run,
        "f": _on_follow_thread,
        "u": _on_unfollow_thread,
        "e": _on_event,
        "t": _on_thread_event,
        "d": _on_done,
    }


__all__ = ["END", "ClusterBus", "Transport"]
