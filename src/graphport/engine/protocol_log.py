"""A thread's protocol events, numbered: replay after a `since`, then live, to each listener.

Every event gets the next `seq` of its thread (1, 2, ... across all the thread's runs), so a
client that reconnects with `since: <last seq seen>` receives exactly what it missed: the log
appends and hands out synchronously, and a listener is registered in the same step as its
replay is queued, so nothing falls between the two and nothing arrives twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphport import serde
from graphport.events import Event

CHANNELS = ("values", "updates", "messages", "tools", "custom", "lifecycle", "input", "tasks")
# accepted, though not listed in the reference's message: langgraph-sdk subscribes to it
EXTRA_CHANNELS = ("checkpoints",)
_DIRECT = frozenset(CHANNELS) | frozenset(EXTRA_CHANNELS)
ALLOWED = (
    "values, updates, messages, tools, custom, lifecycle, input, tasks, or any `custom:<name>`"
)


def unsupported_channels(channels: Iterable[Any]) -> list[str]:
    """The entries that name no channel (`custom:<name>` needs a name)."""
    bad = []
    for ch in channels:
        if isinstance(ch, str) and (
            ch in _DIRECT or (ch.startswith("custom:") and len(ch) > len("custom:"))
        ):
            continue
        bad.append(str(ch))
    return bad


def channel_of(method: str, data: Any) -> str:
    """The subscription channel of an event (custom events with a `name` are `custom:<name>`)."""
    if method == "input.requested":
        return "input"
    if method == "custom" and isinstance(data, dict) and data.get("name"):
        return f"custom:{data['name']}"
    return method


def _prefix_match(namespace: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    """`prefix` segments match literally, or, when they have no `:<task id>`, by node name."""
    if len(prefix) > len(namespace):
        return False
    for want, seg in zip(prefix, namespace, strict=False):
        if seg != want and (":" in want or seg.split(":", 1)[0] != want):
            return False
    return True


@dataclass(frozen=True)
class Filter:
    """One subscription: channels, namespace prefixes (None: all) and depth below them."""

    channels: frozenset[str]
    namespaces: tuple[tuple[str, ...], ...] | None = None
    depth: int | None = None

    def matches(self, channel: str, namespace: tuple[str, ...]) -> bool:
        if channel not in self.channels and not (
            channel.startswith("custom:") and "custom" in self.channels
        ):
            return False
        if not self.namespaces:
            return True
        for prefix in self.namespaces:
            if _prefix_match(namespace, prefix) and (
                self.depth is None or len(namespace) - len(prefix) <= self.depth
            ):
                return True
        return False


@dataclass(slots=True)
class Logged:
    seq: int
    channel: str
    namespace: tuple[str, ...]
    item: Event  # id = str(seq), event = method, data = the event's JSON


@dataclass(eq=False)
class Listener:
    """A connection: its subscriptions, and the queue its events (each once) are put on."""

    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    filters: dict[str, Filter] = field(default_factory=dict)

    def offer(self, ev: Logged) -> None:
        if any(f.matches(ev.channel, ev.namespace) for f in self.filters.values()):
            self.queue.put_nowait(ev.item)


class ThreadLog:
    def __init__(self, max_events: int) -> None:
        self.seq = 0
        self.events: deque[Logged] = deque(maxlen=max_events)
        self.listeners: set[Listener] = set()

    @property
    def first_seq(self) -> int:
        """The oldest seq still kept (the next one when nothing is)."""
        return self.events[0].seq if self.events else self.seq + 1

    def append(
        self,
        method: str,
        namespace: list[str],
        data: Any,
        *,
        event_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Logged:
        self.seq += 1
        now = int(time.time() * 1000)
        params: dict[str, Any] = {"namespace": namespace, "timestamp": now, "data": data}
        if extra:
            params.update(extra)
        frame = {
            "type": "event",
            "event_id": event_id or f"{now}-{self.seq}",
            "seq": self.seq,
            "method": method,
            "params": params,
        }
        item = Event(str(self.seq), self.seq, method, serde.dumps(frame))
        ev = Logged(self.seq, channel_of(method, data), tuple(namespace), item)
        self.events.append(ev)
        for listener in self.listeners:
            listener.offer(ev)
        return ev

    def subscribe(
        self, listener: Listener, flt: Filter, since: int | None, sub_id: str | None = None
    ) -> tuple[str, int]:
        """Add a subscription to `listener`: queue the kept events it matches (all, or those
        after `since`), then live ones. Returns the subscription id and how many were replayed.
        """
        after = 0 if since is None else since
        replayed = 0
        for ev in self.events:
            if ev.seq > after and flt.matches(ev.channel, ev.namespace):
                listener.queue.put_nowait(ev.item)
                replayed += 1
        sub_id = sub_id or str(uuid.uuid4())
        listener.filters[sub_id] = flt
        self.listeners.add(listener)
        return sub_id, replayed


# -- subscription parameters ------------------------------------------------------------------


class SubscriptionError(ValueError):
    """Bad subscription parameters; `what` names the field for the transport's message."""

    def __init__(self, what: str, bad: list[str] | None = None) -> None:
        super().__init__(what)
        self.what, self.bad = what, bad or []


def parse_subscription(params: Any) -> tuple[Filter, int | None]:
    """`{channels, namespaces?, depth?, since?}` -> a filter and the `since` (or None)."""
    if not isinstance(params, dict):
        raise SubscriptionError("channels")
    channels = params.get("channels")
    if not isinstance(channels, list) or not channels:
        raise SubscriptionError("channels")
    bad = unsupported_channels(channels)
    if bad:
        raise SubscriptionError("unsupported", bad)
    since = params.get("since")
    if since is not None and not _natural(since):
        raise SubscriptionError("since")
    depth = params.get("depth")
    if depth is not None and not _natural(depth):
        raise SubscriptionError("depth")
    namespaces = params.get("namespaces")
    if namespaces is not None and not (
        isinstance(namespaces, list)
        and all(isinstance(ns, list) and all(isinstance(s, str) for s in ns) for ns in namespaces)
    ):
        raise SubscriptionError("namespaces")
    prefixes = tuple(tuple(ns) for ns in namespaces) if namespaces is not None else None
    return Filter(frozenset(channels), prefixes, depth), since


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def subscription_message(method: str, exc: SubscriptionError) -> str:
    if exc.what == "channels":
        return f"{method} requires a non-empty channels array."
    if exc.what == "unsupported":
        return f"{method} received an unsupported channel."
    if exc.what == "since":
        return f"{method} requires a non-negative integer since."
    return f"{method} received an invalid {exc.what}."


def stream_error_detail(exc: SubscriptionError) -> str:
    """The `detail` of a 400 from `POST /threads/{tid}/stream/events`."""
    if exc.what == "channels":
        return "channels is required and must be a non-empty array"
    if exc.what == "unsupported":
        return f"channels contains unsupported entries: {', '.join(exc.bad)}. Allowed: {ALLOWED}."
    if exc.what == "namespaces":
        return "namespaces must be an array of namespaces (arrays of strings)"
    return f"{exc.what} must be a non-negative integer"
