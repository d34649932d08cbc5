"""The events of a run's stream, as the bus carries them and the API sends them (SSE ids
`<unix ms>-<seq>`). Here, not in bus/, so the API can name them without knowing the bus."""

from __future__ import annotations

from dataclasses import dataclass

END = None  # the sentinel a subscriber's queue receives when the run has ended


@dataclass(slots=True)
class Event:
    id: str
    seq: int
    event: str
    data: bytes


def event_seq(last_event_id: str) -> int:
    """The sequence number inside a `Last-Event-ID` (`<ms>-<seq>`, or a bare number)."""
    text = last_event_id.strip()
    try:
        return int(text)  # "0" and "-1" replay everything
    except ValueError:
        pass
    try:
        return int(text.rsplit("-", 1)[-1])
    except ValueError:
        return -1
