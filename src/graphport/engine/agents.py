"""Assistants as tools and agents: what the MCP and A2A routes need from the run engine.

Both protocols list assistants, describe their input and run them to completion (statelessly
for MCP, on a thread for A2A); this module does that through the engine's public calls, so a
run made here is queued, executed, cancelled and streamed like any other (in any process).
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from typing import Any

import orjson

from graphport import errors
from graphport.auth import guard
from graphport.engine.runs import RunEngine
from graphport.events import Event
from graphport.models import Assistant, Run, uuid4

PAGE = 100


async def all_assistants(engine: RunEngine) -> list[Assistant]:
    """Every assistant of a served graph, oldest first (system ones lead)."""
    found: list[Assistant] = []
    visible = await guard.search("assistants", {"graph_id": None, "metadata": None,
                                               "limit": PAGE, "offset": 0})  # fmt: skip
    while True:
        page, total = await engine.storage.search_assistants(
            graph_id=None,
            name=None,
            metadata=None,
            limit=PAGE,
            offset=len(found),
            sort_by="created_at",
            sort_order="asc",
            graph_ids=list(engine.graphs),
            visible=visible,
        )
        found += page
        if not page or len(found) >= total:
            return found


async def find_assistant(engine: RunEngine, assistant_id: str) -> Assistant | None:
    """The assistant of a path: a UUID or a graph id (its default assistant)."""
    entry = engine.graphs.get(assistant_id)
    if entry is not None:
        assistant_id = entry.assistant_id
    try:
        assistant_id = str(uuid.UUID(assistant_id))
    except ValueError:
        raise errors.ValidationFailed("Invalid assistant ID: must be a UUID") from None
    try:
        await guard.assistant(engine.storage, assistant_id, "read")
    except errors.NotFound:  # the auth filter hides it
        return None
    assistant = await engine.storage.get_assistant(assistant_id)
    if assistant is None or assistant["graph_id"] not in engine.graphs:
        return None
    return assistant


# When pydantic cannot describe a graph's input (a `typing.TypedDict` state on Python < 3.12):
# any object, so the assistant is still a tool (the reference leaves it out silently).
ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}


async def input_schema(engine: RunEngine, assistant: Assistant) -> dict[str, Any] | None:
    """The JSON Schema of the assistant's graph input; None when its graph cannot be made."""
    entry = engine.graphs[assistant["graph_id"]]
    config = {**assistant["config"]}
    config["configurable"] = dict(config.get("configurable") or {})
    try:
        async with entry.resolve(
            config,
            checkpointer=engine.storage.checkpointer,
            store=engine.storage.store,
            access="assistants.read",
        ) as graph:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    schema: dict[str, Any] = graph.get_input_jsonschema()
                    return schema
            except Exception:
                return {**ANY_OBJECT, "title": graph.get_name("Input")}
    except Exception:
        return None


def is_message_list(schema: dict[str, Any] | None) -> bool:
    """Whether the input's `messages` holds LangChain messages (a chat graph), which both
    protocols fill from a user's text."""
    prop = ((schema or {}).get("properties") or {}).get("messages")
    return isinstance(prop, dict) and b"Message" in orjson.dumps(prop.get("items", {}))


async def start_run(
    engine: RunEngine,
    assistant: Assistant,
    graph_input: Any,
    *,
    thread_id: str | None = None,
    subscribe: bool = False,
    metadata: dict[str, Any] | None = None,
    command: dict[str, Any] | None = None,
) -> tuple[Run, asyncio.Future[bytes], asyncio.Queue[Event | None] | None]:
    """Queue a run of the assistant: stateless without a thread, else on it (created if new);
    with `command`, that instead of the input. Returns the run, a future of its result body
    and, with `subscribe`, its live events."""
    body: dict[str, Any] = {
        "assistant_id": assistant["assistant_id"],
        "stream_mode": ["values", "messages-tuple"] if subscribe else ["values"],
    }
    if command is not None:
        body["command"] = command
    else:
        body["input"] = graph_input
    if thread_id is not None:
        body["if_not_exists"] = "create"
    if metadata:
        body["metadata"] = metadata
    return await engine.create_run(thread_id, body, uuid4(), subscribe=subscribe)


def run_output(result: bytes) -> tuple[Any, str | None]:
    """A run's result body as (values, error text); the error names its type and message."""
    value = orjson.loads(result) if result else None
    if isinstance(value, dict) and "__error__" in value:
        error = value["__error__"] or {}
        kind, message = error.get("error") or "Error", error.get("message") or ""
        return None, f"{kind}: {message}" if message else kind
    return value, None


async def sees_thread(engine: RunEngine, thread_id: str) -> bool:
    """Whether `threads.read` lets the current user see the thread (a context, a task's)."""
    try:
        await guard.thread(engine.storage, thread_id, "read")
    except errors.NotFound:
        return False
    return True


async def get_run(engine: RunEngine, thread_id: str, run_id: str) -> Run | None:
    if not await sees_thread(engine, thread_id):
        return None
    return await engine.storage.get_run(thread_id, run_id)


async def runs_of(engine: RunEngine, thread_id: str, limit: int) -> list[Run]:
    """The thread's runs, newest first."""
    if not await sees_thread(engine, thread_id):
        return []
    return await engine.storage.list_runs(thread_id, limit=limit, offset=0, status=None)


async def threads_of(engine: RunEngine, assistant_id: str, limit: int) -> list[str]:
    """Ids of the threads the assistant ran on last, newest first."""
    metadata = {"assistant_id": assistant_id}
    visible = await guard.search("threads", {"metadata": metadata, "limit": limit, "offset": 0})
    found, _ = await engine.storage.search_threads(metadata=metadata, limit=limit, visible=visible)
    return [t["thread_id"] for t in found]


async def waiting_on_interrupt(engine: RunEngine, thread_id: str) -> bool:
    """Whether the thread stopped on an interrupt nobody has answered yet."""
    if not await sees_thread(engine, thread_id):
        return False
    thread = await engine.storage.get_thread(thread_id)
    return bool(thread and thread.get("status") == "interrupted" and thread.get("interrupts"))


async def thread_values(engine: RunEngine, thread_id: str) -> dict[str, Any]:
    if not await sees_thread(engine, thread_id):
        return {}
    thread = await engine.storage.get_thread(thread_id)
    values = (thread or {}).get("values")
    return values if isinstance(values, dict) else {}


async def run_result(engine: RunEngine, run_id: str) -> bytes | None:
    """The stored result body of an ended run (None while it runs)."""
    found = await engine.storage.get_run_result(run_id)
    return found[1] if found else None
