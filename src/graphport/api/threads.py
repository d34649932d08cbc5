"""Thread routes (read side: what a kept run leaves behind)."""

from __future__ import annotations

from typing import Any

from langgraph.types import StateSnapshot
from starlette.requests import Request
from starlette.responses import Response

from graphport import errors
from graphport.api.bodies import path_uuid, query_flag
from graphport.api.responses import JSONResponse
from graphport.engine.runs import RunEngine


def _engine(request: Request) -> RunEngine:
    return request.app.state.engine  # type: ignore[no-any-return]


async def get_thread(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    thread = await _engine(request).storage.get_thread(thread_id)
    if thread is None:
        raise errors.thread_not_found(thread_id)
    return JSONResponse(thread)


def _checkpoint_ref(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    c = config.get("configurable", {})
    if "checkpoint_id" not in c:
        return None
    return {
        "checkpoint_id": c["checkpoint_id"],
        "thread_id": c.get("thread_id"),
        "checkpoint_ns": c.get("checkpoint_ns", ""),
    }


def state_json(state: StateSnapshot) -> dict[str, Any]:
    """A langgraph StateSnapshot as the API's ThreadState."""
    checkpoint = _checkpoint_ref(state.config)
    parent = _checkpoint_ref(state.parent_config)
    tasks = []
    for task in state.tasks:
        sub = task.state
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": list(task.path),
                "error": None if task.error is None else str(task.error),
                "interrupts": [{"id": i.id, "value": i.value} for i in task.interrupts],
                "checkpoint": _checkpoint_ref(sub) if isinstance(sub, dict) else None,
                "state": state_json(sub) if isinstance(sub, StateSnapshot) else None,
                "result": task.result,
            }
        )
    return {
        "values": state.values,
        "next": list(state.next),
        "tasks": tasks,
        "metadata": state.metadata,
        "created_at": state.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": [{"id": i.id, "value": i.value} for i in state.interrupts],
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


async def get_state(request: Request) -> Response:
    thread_id = path_uuid(request.path_params["thread_id"], "thread")
    engine = _engine(request)
    thread = await engine.storage.get_thread(thread_id)
    if thread is None:
        raise errors.thread_not_found(thread_id)
    graph_id = thread["metadata"].get("graph_id")
    entry = engine.graphs.get(graph_id) if graph_id else None
    if entry is None:  # no run has set the thread's graph yet
        return JSONResponse(state_json(StateSnapshot({}, (), None, None, None, None, (), ())))
    worker = engine.worker
    checkpointer = (
        worker.ephemeral if thread_id in worker.ephemeral.storage else engine.storage.checkpointer
    )
    async with entry.resolve(
        thread.get("config") or {},
        checkpointer=checkpointer,
        store=engine.storage.store,
        access="threads.read",
    ) as graph:
        state = await graph.aget_state(
            {"configurable": {"thread_id": thread_id}}, subgraphs=query_flag(request, "subgraphs")
        )
    return JSONResponse(state_json(state))
