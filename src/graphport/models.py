"""The records graphport stores, as JSON-ready dicts named as in `langgraph_sdk.schema`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict

import uuid_utils

RunStatus = Literal["pending", "running", "success", "error", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
TERMINAL_RUN_STATUSES = frozenset({"success", "error", "timeout", "interrupted"})
THREAD_SORT_FIELDS = frozenset(
    {"thread_id", "status", "created_at", "updated_at", "state_updated_at"}
)


class Assistant(TypedDict):
    assistant_id: str
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    name: str
    description: str | None
    created_at: str
    updated_at: str
    version: int


class Thread(TypedDict, total=False):
    thread_id: str
    status: ThreadStatus
    metadata: dict[str, Any]
    config: dict[str, Any]
    created_at: str
    updated_at: str
    state_updated_at: str
    values: Any
    error: Any  # present only once a run has finished on the thread
    interrupts: dict[str, Any]  # likewise
    temporary: bool  # a stateless run's thread, deleted when the run ends (never served)


class Run(TypedDict):
    run_id: str
    thread_id: str
    assistant_id: str
    metadata: dict[str, Any]
    status: RunStatus
    kwargs: dict[str, Any]
    multitask_strategy: str
    created_at: str
    updated_at: str
    langsmith_session_name: str | None
    attempt: NotRequired[int]  # on claimed runs only: 1 for the first execution, 2 after a crash


def iso(ts: float | None = None) -> str:
    """An ISO-8601 UTC timestamp with '+00:00', as the reference writes them."""
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).isoformat()


def uuid7() -> str:
    """A time-ordered UUID (version 7), like the reference's run and thread ids."""
    # uuid_utils draws from a generator seeded once; os.urandom per id is a system call on the
    # event loop's hot path, which releases the GIL and waits for it back under load
    return str(uuid_utils.uuid7())


def uuid4() -> str:
    """A random UUID (version 4): request ids and the like, without a system call each."""
    return str(uuid_utils.uuid4())


INTERNAL_KWARGS = frozenset({"context_provided", "trace_context"})


def public_run(run: Run) -> Run:
    """The Run as clients see it: graphport's internal kwargs left out."""
    kwargs = run["kwargs"]
    if not INTERNAL_KWARGS & kwargs.keys():
        return run
    public = {k: v for k, v in kwargs.items() if k not in INTERNAL_KWARGS}
    return {**run, "kwargs": public}
