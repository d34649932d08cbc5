"""The HTTP layer: parse, call the engine, serialise. No storage, no bus, no graph code.

The route table is below, grouped as in the API reference; `route_table(http)` applies the
`http` block of langgraph.json (`disable_*` switches); graphport.http_app places a custom app's
routes among them and applies `mount_prefix`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.routing import BaseRoute, Route, WebSocketRoute

from graphport.api import (
    a2a,
    assistants,
    console,
    crons,
    mcp,
    metrics,
    openapi,
    protocol,
    runs,
    store,
    system,
    threads,
    ui,
)  # fmt: skip

META: list[BaseRoute] = [
    Route("/", system.ok, methods=["GET"]),
    Route("/info", system.info, methods=["GET"]),
]

ASSISTANTS = [
    Route("/assistants", assistants.create_assistant, methods=["POST"]),
    Route("/assistants/search", assistants.search_assistants, methods=["POST"]),
    Route("/assistants/count", assistants.count_assistants, methods=["POST"]),
    Route("/assistants/{assistant_id}", assistants.get_assistant, methods=["GET"]),
    Route("/assistants/{assistant_id}", assistants.patch_assistant, methods=["PATCH"]),
    Route("/assistants/{assistant_id}", assistants.delete_assistant, methods=["DELETE"]),
    Route("/assistants/{assistant_id}/graph", assistants.get_graph, methods=["GET"]),
    Route("/assistants/{assistant_id}/schemas", assistants.get_schemas, methods=["GET"]),
    Route("/assistants/{assistant_id}/subgraphs", assistants.get_subgraphs, methods=["GET"]),
    Route(
        "/assistants/{assistant_id}/subgraphs/{namespace}",
        assistants.get_subgraphs,
        methods=["GET"],
    ),
    Route("/assistants/{assistant_id}/versions", assistants.list_versions, methods=["POST"]),
    Route("/assistants/{assistant_id}/latest", assistants.set_latest, methods=["POST"]),
]

THREADS = [
    Route("/threads", threads.create_thread, methods=["POST"]),
    Route("/threads/search", threads.search_threads, methods=["POST"]),
    Route("/threads/count", threads.count_threads, methods=["POST"]),
    Route("/threads/prune", threads.prune_threads, methods=["POST"]),
    Route("/threads/{thread_id}", threads.get_thread, methods=["GET"]),
    Route("/threads/{thread_id}", threads.patch_thread, methods=["PATCH"]),
    Route("/threads/{thread_id}", threads.delete_thread, methods=["DELETE"]),
    Route("/threads/{thread_id}/state", threads.get_state, methods=["GET"]),
    Route("/threads/{thread_id}/state", threads.update_state, methods=["POST"]),
    Route(
        "/threads/{thread_id}/state/checkpoint", threads.get_state_at_checkpoint, methods=["POST"]
    ),
    Route("/threads/{thread_id}/state/{checkpoint_id}", threads.get_state, methods=["GET"]),
    Route("/threads/{thread_id}/history", threads.history, methods=["GET", "POST"]),
    Route("/threads/{thread_id}/copy", threads.copy_thread, methods=["POST"]),
    Route("/threads/{thread_id}/stream", threads.join_thread_stream, methods=["GET"]),
]

RUNS = [
    # Stateless runs
    Route("/runs", runs.create_stateless, methods=["POST"]),
    Route("/runs/stream", runs.stream_stateless, methods=["POST"]),
    Route("/runs/wait", runs.wait_stateless, methods=["POST"]),
    Route("/runs/batch", runs.create_batch, methods=["POST"]),
    Route("/runs/cancel", runs.cancel_many, methods=["POST"]),
    # Thread runs
    Route("/threads/{thread_id}/runs", runs.create_thread_run, methods=["POST"]),
    Route("/threads/{thread_id}/runs", runs.list_runs, methods=["GET"]),
    Route("/threads/{thread_id}/runs/stream", runs.stream_thread_run, methods=["POST"]),
    Route("/threads/{thread_id}/runs/wait", runs.wait_thread_run, methods=["POST"]),
    Route("/threads/{thread_id}/runs/{run_id}", runs.get_run, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}", runs.delete_run, methods=["DELETE"]),
    Route("/threads/{thread_id}/runs/{run_id}/cancel", runs.cancel_run, methods=["POST"]),
    Route("/threads/{thread_id}/runs/{run_id}/join", runs.join_run, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}/stream", runs.join_stream, methods=["GET"]),
    # graphport's own
    Route("/runs/{run_id}/webhook", runs.get_webhook, methods=["GET"]),
    Route("/runs/{run_id}/feedback", runs.list_feedback, methods=["GET"]),
    Route("/feedback/{token}", runs.give_feedback, methods=["POST"]),
]

CRONS = [
    Route("/runs/crons", crons.create_cron, methods=["POST"]),
    Route("/threads/{thread_id}/runs/crons", crons.create_thread_cron, methods=["POST"]),
    Route("/runs/crons/search", crons.search_crons, methods=["POST"]),
    Route("/runs/crons/count", crons.count_crons, methods=["POST"]),
    Route("/runs/crons/{cron_id}", crons.get_cron, methods=["GET"]),
    Route("/runs/crons/{cron_id}", crons.patch_cron, methods=["PATCH"]),
    Route("/runs/crons/{cron_id}", crons.delete_cron, methods=["DELETE"]),
]

# The thread event protocol (v2): thread-scoped commands and event streams
EVENT_STREAMING = [
    Route("/threads/{thread_id}/commands", protocol.command, methods=["POST"]),
    Route("/threads/{thread_id}/stream/events", protocol.stream_events, methods=["POST"]),
    WebSocketRoute("/threads/{thread_id}/stream/events", protocol.stream_socket),
]

# Every assistant as an MCP tool (streamable HTTP, stateless)
MCP = [
    Route("/mcp", mcp.post, methods=["POST"]),
    Route("/mcp", mcp.get, methods=["GET"]),
    Route("/mcp", mcp.delete, methods=["DELETE"]),
]

# Every assistant as an A2A agent: its card, and JSON-RPC
A2A = [
    Route("/.well-known/agent-card.json", a2a.agent_card, methods=["GET"]),
    Route("/a2a/{assistant_id}", a2a.agent_card, methods=["GET"]),
    Route("/a2a/{assistant_id}", a2a.rpc, methods=["POST"]),
    # clients that join the card's URL with "/" would get a 307 (which drops a POST body)
    Route("/a2a/{assistant_id}/", a2a.rpc, methods=["POST"], include_in_schema=False),
    Route("/a2a/{assistant_id}/.well-known/agent-card.json", a2a.agent_card, methods=["GET"]),
    Route("/a2a/{assistant_id}/.well-known/agent.json", a2a.agent_card, methods=["GET"]),
]

STORE = [
    Route("/store/items", store.put_item, methods=["PUT"]),
    Route("/store/items", store.get_item, methods=["GET"]),
    Route("/store/items", store.delete_item, methods=["DELETE"]),
    Route("/store/items/search", store.search_items, methods=["POST"]),
    Route("/store/namespaces", store.list_namespaces, methods=["POST"]),
]


# Generative UI: the components of langgraph.json's `ui` block (graphport.ui bundles them)
UI = [
    Route("/ui/{graph_id}", ui.component, methods=["POST"]),
    Route("/ui/{graph_id}/{name}", ui.asset, methods=["GET", "HEAD"]),
]

# The web console (api/console.py): a page, not part of the API description
CONSOLE = [
    Route("/console", console.page, methods=["GET"], include_in_schema=False),
    Route("/console/{path:path}", console.page, methods=["GET"], include_in_schema=False),
]


@dataclasses.dataclass
class RouteTable:
    """The routes served under the `http` settings of langgraph.json, in the three tiers a
    custom app (`http.app`) is placed between (see graphport.http_app)."""

    fixed: list[BaseRoute]  # health and API description: a custom app cannot replace them
    meta: list[BaseRoute]  # `/`, `/info`: a custom app's route of the same path wins
    api: list[BaseRoute]  # the enabled API groups (authenticated, once auth is configured)
    root: list[BaseRoute]  # served outside `http.mount_prefix` too (load balancers' checks)


def route_table(http: dict[str, Any]) -> RouteTable:
    api: list[BaseRoute] = []
    if not http.get("disable_runs"):
        api += RUNS  # first: the router tries routes in order, and runs are the hot path
        api += CRONS
        if not http.get("disable_event_streaming"):
            api += EVENT_STREAMING
    if not http.get("disable_assistants"):
        api += ASSISTANTS
    if not http.get("disable_threads"):
        api += THREADS
    if not http.get("disable_store"):
        api += STORE
    if not http.get("disable_mcp"):
        api += MCP
    if not http.get("disable_a2a"):
        api += A2A
    if not http.get("disable_ui"):
        api += UI
    if http.get("disable_meta"):
        ok = Route("/ok", system.ok_bare, methods=["GET"])
        return RouteTable(fixed=[ok], meta=[], api=api, root=[ok])
    ok = Route("/ok", system.ok, methods=["GET"])
    described = Route("/openapi.json", openapi.openapi, methods=["GET"])
    explorer = [
        Route("/docs", openapi.docs, methods=["GET"]),
        Route("/docs/{name}", openapi.docs_asset, methods=["GET"]),
    ]
    scrape = Route("/metrics", metrics.metrics, methods=["GET"])
    fixed: list[BaseRoute] = [ok, scrape, described, *explorer]
    if not http.get("disable_console"):
        fixed += CONSOLE
    return RouteTable(fixed=fixed, meta=META, api=api, root=[ok, META[0]])


# what each route takes and answers, for /openapi.json (imported for its declarations)
from graphport.api import descriptions  # noqa: E402, F401
