"""The HTTP layer: parse, call the engine or storage, serialise. No SQL, no graph code.

`ROUTES` is the route table, in the order of the API reference.
"""

from __future__ import annotations

from starlette.routing import Route

from graphport.api import assistants, runs, system, threads

ROUTES = [
    # System
    Route("/ok", system.ok, methods=["GET"]),
    Route("/", system.ok, methods=["GET"]),
    Route("/info", system.info, methods=["GET"]),
    # Assistants
    Route("/assistants/search", assistants.search_assistants, methods=["POST"]),
    Route("/assistants/{assistant_id}", assistants.get_assistant, methods=["GET"]),
    Route("/assistants/{assistant_id}/graph", assistants.get_graph, methods=["GET"]),
    Route("/assistants/{assistant_id}/schemas", assistants.get_schemas, methods=["GET"]),
    # Threads
    Route("/threads/{thread_id}", threads.get_thread, methods=["GET"]),
    Route("/threads/{thread_id}/state", threads.get_state, methods=["GET"]),
    # Thread runs
    Route("/threads/{thread_id}/runs", runs.list_runs, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}", runs.get_run, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}/join", runs.join_run, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}/stream", runs.join_stream, methods=["GET"]),
    # Stateless runs
    Route("/runs/wait", runs.wait_stateless, methods=["POST"]),
    # graphport's own
    Route("/runs/{run_id}/webhook", runs.get_webhook, methods=["GET"]),
    Route("/runs/{run_id}/feedback", runs.list_feedback, methods=["GET"]),
    Route("/feedback/{token}", runs.give_feedback, methods=["POST"]),
]
