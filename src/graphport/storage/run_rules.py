"""The rules of taking a new run in, written once for both SQL backends: which thread it may
go on, whether it waits (its thread is busy) or is refused, and whether it starts at once.
A backend reads the facts inside its transaction (does the thread exist, is it busy) and
asks these functions what follows; it does the writing in its own SQL."""

from __future__ import annotations

from datetime import datetime

from graphport import errors
from graphport.models import Run


def due_of(run: Run) -> float:
    """When the run may start (epoch seconds): its creation time, which `after_seconds` set
    into the future."""
    return datetime.fromisoformat(run["created_at"]).timestamp()


def check_run_thread(thread_id: str, *, creating: bool, exists: bool) -> None:
    """A run on an existing thread needs it (404); one that brings its own new thread must
    not find the id taken (409)."""
    if creating and exists:
        raise errors.thread_exists(thread_id)
    if not creating and not exists:
        raise errors.thread_not_found(thread_id)


def starts_claimed(
    *, busy: bool, reject_if_busy: bool, claim: bool, due: float, now: float
) -> bool:
    """Whether the new run is claimed by its creator and starts running now: asked to, due,
    and its thread has no run before it. A busy thread refuses it under `reject` (409),
    else it waits its turn."""
    if busy and reject_if_busy:
        raise errors.thread_busy()
    return claim and due <= now and not busy
