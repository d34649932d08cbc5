"""Turn a validated run request into stored records, and a stored run into graph arguments.

The merge rules are the reference's (§2.5 of the spec): config keys shallow-merged over the
assistant's, `configurable` merged key by key, `context` mirrored from `configurable` and filtered
by the graph's context schema, metadata layered assistant < thread < config.metadata < request.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.version import __version__ as LANGGRAPH_VERSION

from graphport import API_VERSION, auth, tracing
from graphport.auth.users import AuthUser
from graphport.engine.executor import Prepared, command_from_json
from graphport.graphs import Graph
from graphport.models import Assistant, Run, Thread

RESERVED_METADATA = frozenset(
    {"thread_id", "assistant_id", "run_id", "cron_id", "counters_since_delta_snapshot"}
)
RESERVED_CONFIGURABLE = frozenset(
    {
        "langgraph_auth_user",
        "langgraph_auth_user_id",
        "langgraph_auth_permissions",
        "langgraph_request_id",
        "__langsmith_project__",
        "__langsmith_example_id__",
        "__request_start_time_ms__",
        "__after_seconds__",
        "__otel_traceparent__",
        "__otel_tracestate__",
        "__dd_trace_headers__",
        "__pregel_node_finished",
        "__context_provided__",
    }
)
# configurable keys the server sets itself; not mirrored into `context`
SERVER_KEYS = frozenset({"run_id", "thread_id", "graph_id", "assistant_id"})


def _without(d: dict[str, Any] | None, keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in (d or {}).items() if k not in keys}


def durability_of(body: dict[str, Any]) -> str:
    """`durability` wins; else the deprecated `checkpoint_during` (false means 'exit')."""
    if body.get("durability"):
        return str(body["durability"])
    return "exit" if body.get("checkpoint_during") is False else "async"


def new_run(
    body: dict[str, Any],
    assistant: Assistant,
    *,
    run_id: str,
    thread_id: str,
    created_at: str,
    updated_at: str,
    request_id: str,
    temporary: bool,
    thread: Thread | None = None,
    headers: dict[str, str] | None = None,
) -> Run:
    """The Run record for a validated request body."""
    req_config = dict(body.get("config") or {})
    req_configurable = _without(req_config.pop("configurable", None), RESERVED_CONFIGURABLE)
    req_context = body.get("context") or None
    if req_context:
        req_configurable = dict(req_context)
    metadata = {
        **assistant["metadata"],
        **_without(thread["metadata"] if thread else {}, RESERVED_METADATA),
        **(req_config.get("metadata") or {}),
        **_without(body.get("metadata"), RESERVED_METADATA),
        "assistant_id": assistant["assistant_id"],
    }
    configurable = {
        **(assistant["config"].get("configurable") or {}),
        **((thread["config"].get("configurable") if thread else None) or {}),
        **req_configurable,
        **(headers or {}),
        **_checkpoint_of(body),
        **_server_configurable(assistant, run_id, thread_id, request_id),
        "user_id": req_configurable.get("user_id", ""),
    }
    config = {
        **{k: v for k, v in assistant["config"].items() if k != "configurable"},
        **req_config,
        "configurable": configurable,
        "metadata": metadata,
    }
    mirrored = req_context or {k: v for k, v in req_configurable.items() if k not in SERVER_KEYS}
    context = {**(assistant.get("context") or {}), **mirrored}
    return {
        "run_id": run_id,
        "thread_id": thread_id,
        "assistant_id": assistant["assistant_id"],
        "metadata": metadata,
        "status": "pending",
        "kwargs": run_kwargs(body, config, context, temporary, bool(req_context)),
        "multitask_strategy": body.get("multitask_strategy") or "enqueue",
        "created_at": created_at,
        "updated_at": updated_at,
        "langsmith_session_name": None,
    }


def _checkpoint_of(body: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint the run starts from (`checkpoint`, `checkpoint_id` winning)."""
    checkpoint = {k: v for k, v in (body.get("checkpoint") or {}).items() if k != "thread_id"}
    if body.get("checkpoint_id"):
        checkpoint["checkpoint_id"] = body["checkpoint_id"]
    return checkpoint


def _server_configurable(
    assistant: Assistant, run_id: str, thread_id: str, request_id: str
) -> dict[str, Any]:
    """The `configurable` keys the server sets over whatever the client sent; the user is the
    request's (stored with the run, so any process executing it passes the same user)."""
    session = auth.current()
    return {
        "run_id": run_id,
        "thread_id": thread_id,
        "graph_id": assistant["graph_id"],
        "assistant_id": assistant["assistant_id"],
        "langgraph_auth_user": dict(session.as_dict) if session else None,
        "langgraph_auth_user_id": session.identity if session else "",
        "langgraph_auth_permissions": list(session.permissions) if session else [],
        "langgraph_request_id": request_id,
    }


def run_kwargs(
    body: dict[str, Any],
    config: dict[str, Any],
    context: dict[str, Any],
    temporary: bool,
    context_provided: bool,
) -> dict[str, Any]:
    """What the worker needs to call the graph, as stored on the run."""
    stream_mode = body.get("stream_mode", ["values"])
    command = body.get("command") or None
    if command:
        command = {k: v for k, v in command.items() if v is not None or k == "resume"}
    return {
        "input": body.get("input"),
        "command": command,
        "config": config,
        "context": context,
        "stream_mode": [stream_mode] if isinstance(stream_mode, str) else list(stream_mode),
        "interrupt_before": body.get("interrupt_before"),
        "interrupt_after": body.get("interrupt_after"),
        "webhook": body.get("webhook"),
        "feedback_keys": body.get("feedback_keys"),
        "temporary": temporary,
        "subgraphs": bool(body.get("stream_subgraphs", False)),
        "resumable": bool(body.get("stream_resumable", False)),
        "checkpoint_during": body.get("checkpoint_during", True),
        "durability": durability_of(body),
        "context_provided": context_provided,
        **_trace_context(),
    }


def _trace_context() -> dict[str, Any]:
    """The creating request's trace context, continued by the run's span on any process."""
    carrier = tracing.current_carrier()
    return {"trace_context": carrier} if carrier else {}


def new_run_thread(
    body: dict[str, Any], assistant: Assistant, thread_id: str, now: str, temporary: bool
) -> Thread:
    """The thread a run creates: a stateless run's, or one made by `if_not_exists`."""
    req_config = dict(body.get("config") or {})
    req_config.pop("configurable", None)
    config = {
        **{k: v for k, v in assistant["config"].items() if k != "configurable"},
        **{k: v for k, v in req_config.items() if k != "metadata"},
        "configurable": dict(assistant["config"].get("configurable") or {}),
    }
    metadata = {
        "graph_id": assistant["graph_id"],
        "assistant_id": assistant["assistant_id"],
        **(req_config.get("metadata") or {}),
        **_without(body.get("metadata"), RESERVED_METADATA),
    }
    return {
        "thread_id": thread_id,
        "status": "busy",
        "metadata": metadata,
        "config": config,
        "created_at": now,
        "updated_at": now,
        "state_updated_at": now,
        "values": None,
        "temporary": temporary,
    }


_context_keys_cache: dict[int, frozenset[str] | None] = {}


def _context_keys(graph: Graph, cacheable: bool) -> frozenset[str] | None:
    """Property names of the graph's context schema; None when it declares none."""
    key = id(graph)
    if cacheable and key in _context_keys_cache:
        return _context_keys_cache[key]
    keys: frozenset[str] | None = None
    if graph.context_schema is not None:
        try:
            props = (graph.get_context_jsonschema() or {}).get("properties") or {}
            keys = frozenset(props) or None
        except Exception:  # an exotic schema: do not filter
            keys = None
    if cacheable:
        _context_keys_cache[key] = keys
    return keys


def prepare(run: Run, graph: Graph, *, attempt: int, cacheable: bool) -> Prepared:
    """Graph arguments for a stored run."""
    kw = run["kwargs"]
    config = cast(RunnableConfig, dict(kw["config"]))
    configurable = dict(config["configurable"])
    context = dict(kw.get("context") or {})
    keys = _context_keys(graph, cacheable)
    if keys is not None and context:
        dropped = context.keys() - keys
        if dropped and kw.get("context_provided"):
            for k in dropped:
                if configurable.get(k) == context[k]:
                    configurable.pop(k, None)
        context = {k: v for k, v in context.items() if k in keys}
    if isinstance(configurable.get("langgraph_auth_user"), dict):  # `user.identity` works too
        configurable["langgraph_auth_user"] = AuthUser(configurable["langgraph_auth_user"])
    config["configurable"] = configurable
    config["metadata"] = {
        **config.get("metadata", {}),
        "run_attempt": attempt,
        "langgraph_version": LANGGRAPH_VERSION,
        "langgraph_api_version": API_VERSION,
        "langgraph_plan": "graphport",
        "langgraph_host": "self-hosted",
        "graph_id": configurable.get("graph_id"),
        "thread_id": run["thread_id"],
        "run_id": run["run_id"],
    }
    config["run_id"] = uuid.UUID(run["run_id"])
    command = kw.get("command")
    graph_input = command_from_json(command) if command else kw.get("input")
    return Prepared(
        input=graph_input,
        config=config,
        context=context or None,
        stream_mode=kw.get("stream_mode") or ["values"],
        subgraphs=bool(kw.get("subgraphs")),
        durability=kw.get("durability") or "async",
        interrupt_before=kw.get("interrupt_before"),
        interrupt_after=kw.get("interrupt_after"),
    )
