"""Graph stream chunks -> the API's SSE events (spec §6.6).

`values`, `updates`, `custom`, `debug`, `tasks`, `checkpoints` pass through under their own
names; `messages-tuple` becomes `messages` with `[message, metadata]`; `messages` becomes
`messages/metadata` once per message, then `messages/partial` (the message accumulated so far) for
chunks or `messages/complete`. With `stream_subgraphs`, a subgraph's events are named
`<mode>|<namespace>`. A run of the thread event protocol (its modes list `lifecycle`) streams
protocol message events: they pass through as `messages` with `[event, metadata]`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessageChunk

from graphport.engine.executor import PROTOCOL_MODE


class EventEncoder:
    def __init__(self, requested: list[str]) -> None:
        self.requested = set(requested)
        self._messages: dict[str, Any] = {}
        if PROTOCOL_MODE in self.requested:
            self.requested.add("messages-tuple")
            self.requested.discard("messages")

    def encode(self, ns: tuple[str, ...], mode: str, data: Any) -> list[tuple[str, Any]]:
        suffix = "|" + "|".join(ns) if ns else ""
        if mode == "messages":
            return self._messages_events(suffix, data)
        if mode == "events":
            return [("events", data)]
        if mode in self.requested:
            return [(mode + suffix, data)]
        return []

    def _messages_events(self, suffix: str, data: Any) -> list[tuple[str, Any]]:
        message, metadata = data
        out: list[tuple[str, Any]] = []
        if "messages-tuple" in self.requested:
            out.append(("messages" + suffix, [message, metadata]))
        if "messages" in self.requested:
            mid = getattr(message, "id", None) or ""
            if mid not in self._messages:
                self._messages[mid] = message
                out.append(("messages/metadata" + suffix, {mid: {"metadata": metadata}}))
            elif isinstance(message, BaseMessageChunk):
                self._messages[mid] = self._messages[mid] + message
            else:
                self._messages[mid] = message
            kind = "partial" if isinstance(message, BaseMessageChunk) else "complete"
            out.append((f"messages/{kind}{suffix}", [self._messages[mid]]))
        return out
