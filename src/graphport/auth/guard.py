"""The checks a route makes before it touches a resource by id: run the handler for the
action, then, when it returned a filter, answer exactly as for a missing resource if the
resource does not pass it. Searches pass the filter to storage instead (`visible=`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from graphport import errors
from graphport.auth.core import authorize, current
from graphport.auth.filters import Conditions, matches
from graphport.storage import Storage


async def _one(
    resource: str,
    key: str,
    resource_id: str,
    action: str,
    value: dict[str, Any] | None,
    fetch: Callable[[str], Awaitable[Mapping[str, Any] | None]],
    not_found: Exception,
) -> None:
    if current() is None:
        return
    visible = await authorize(resource, action, {key: resource_id, **(value or {})})
    if visible:
        found = await fetch(resource_id)
        if found is not None and not matches(visible, found.get("metadata") or {}):
            raise not_found


async def thread(
    storage: Storage,
    thread_id: str,
    action: str,
    value: dict[str, Any] | None = None,
    *,
    not_found: Exception | None = None,
) -> None:
    """`threads.<action>` on one thread (a run's routes go through their thread)."""
    hidden = not_found or errors.thread_not_found(thread_id)
    await _one("threads", "thread_id", thread_id, action, value, storage.get_thread, hidden)


async def assistant(
    storage: Storage,
    assistant_id: str,
    action: str,
    value: dict[str, Any] | None = None,
    *,
    not_found: Exception | None = None,
) -> None:
    hidden = not_found or errors.NotFound()
    fetch = storage.get_assistant
    await _one("assistants", "assistant_id", assistant_id, action, value, fetch, hidden)


async def cron(
    storage: Storage,
    cron_id: str,
    action: str,
    value: dict[str, Any] | None = None,
    *,
    not_found: Exception | None = None,
) -> None:
    hidden = not_found or errors.NotFound()
    await _one("crons", "cron_id", cron_id, action, value, storage.get_cron, hidden)


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
