"""The checks a route makes before it touches a resource by id: run the handler for the
action, then, when it returned a filter, answer exactly as for a missing resource if the
resource does not pass it. Searches pass the filter to storage instead (`visible=`)."""

from __future__ import annotations

from typing import Any

from graphport import errors
from graphport.auth.core import authorize, current
from graphport.auth.filters import Conditions, matches
from graphport.storage import Storage


async def thread(
    storage: Storage,
    thread_id: str,
    action: str,
    value: dict[str, Any] | None = None,
    *,
    not_found: Exception | None = None,
) -> None:
    """`threads.<action>` on one thread (a run's routes go through their thread)."""
    if current() is None:
        return
    visible = await authorize("threads", action, {"thread_id": thread_id, **(value or {})})
    if visible:
        found = await storage.get_thread(thread_id)
        if found is not None and not matches(visible, found["metadata"]):
            raise not_found or errors.thread_not_found(thread_id)


async def assistant(
    storage: Storage,
    assistant_id: str,
    action: str,
    value: dict[str, Any] | None = None,
    *,
    not_found: Exception | None = None,
) -> None:
    if current() is None:
        return
    visible = await authorize("assistants", action, {"assistant_id": assistant_id, **(value or {})})
    if visible:
        found = await storage.get_assistant(assistant_id)
        if found is not None and not matches(visible, found["metadata"]):
            raise not_found or errors.NotFound()


async def cron(
    storage: Storage,
    cron_id: str,
    action: str,
    value: dict[str, Any] | None = None,
    *,
    not_found: Exception | None = None,
) -> None:
    if current() is None:
        return
    visible = await authorize("crons", action, {"cron_id": cron_id, **(value or {})})
    if visible:
        found = await storage.get_cron(cron_id)
        if found is not None and not matches(visible, found.get("metadata") or {}):
            raise not_found or errors.NotFound()


async def search(resource: str, value: dict[str, Any]) -> Conditions | None:
    """`<resource>.search`: the filter storage must apply (None: none)."""
    if current() is None:
        return None
    return await authorize(resource, "search", value)


async def create(resource: str, value: dict[str, Any]) -> dict[str, Any]:
    """`<resource>.create`: the value, with whatever the handler stamped into it."""
    if current() is not None:
        await authorize(resource, "create", value)
    return value
