"""What each route takes and answers, for GET /openapi.json (graphport.api.openapi builds it).

One `describe` per endpoint: the request body's schema (a title of api/schemas.py), the query
parameters the handler reads, the success status and body (api/response_schemas.py), and the
errors it answers. A route left out here still appears, with an open success schema.
"""

from __future__ import annotations

from typing import Any

from graphport.api import (
    a2a,
    assistants,
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
from graphport.api.openapi import describe, query
from graphport.api.response_schemas import COUNT, array_of

_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}
_STRING = {"type": "string"}
_NOT_FOUND = {"404": "Not Found"}
_INVALID = {"422": "Validation Error"}
_FOUND_OR_INVALID = {**_NOT_FOUND, **_INVALID}
_RUN_ERRORS = {**_FOUND_OR_INVALID, "409": "Conflict"}
_STREAM_MODE = query(
    "stream_mode", {"type": "array", "items": _STRING}, "the stream modes to join (repeatable)"
)
_LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "schema": _STRING,
    "description": "resume after this event (a resumable run's, or the thread stream's)",
}
_ACTION = query("action", {"enum": ["interrupt", "rollback"]}, "default interrupt")
_CANCEL_ON_DISCONNECT = query(
    "cancel_on_disconnect", _BOOL, "cancel the run when this client disconnects"
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict[str, Any]:
    return {"answers": _ref(name)}


# -- assistants
describe(assistants.create_assistant, body="AssistantCreate", responses={**_INVALID,
         "404": "Graph not found", "409": "Conflict"}, **_json("Assistant"))  # fmt: skip
describe(assistants.search_assistants, body="AssistantSearchRequest", responses=_INVALID,
         answers=array_of("Assistant"))  # fmt: skip
describe(assistants.count_assistants, body="AssistantCountRequest", responses=_INVALID,
         answers=COUNT)  # fmt: skip
describe(assistants.get_assistant, responses=_FOUND_OR_INVALID, **_json("Assistant"))
describe(assistants.patch_assistant, body="AssistantPatch", responses=_FOUND_OR_INVALID,
         **_json("Assistant"))  # fmt: skip
describe(assistants.delete_assistant, status="204", responses=_FOUND_OR_INVALID, query=[
    query("delete_threads", _BOOL, "also delete the assistant's threads")])  # fmt: skip
describe(assistants.get_graph, responses=_FOUND_OR_INVALID, **_json("GraphDrawing"), query=[
    query("xray", {"anyOf": [_BOOL, _INT]}, "include subgraphs, to this depth")])  # fmt: skip
describe(assistants.get_schemas, responses=_FOUND_OR_INVALID, **_json("GraphSchema"))
describe(assistants.get_subgraphs, responses=_FOUND_OR_INVALID, **_json("Subgraphs"), query=[
    query("recurse", _BOOL, "also the subgraphs of subgraphs")])  # fmt: skip
describe(assistants.list_versions, body="AssistantVersionsSearchRequest",
         responses=_FOUND_OR_INVALID, answers=array_of("AssistantVersion"))  # fmt: skip
describe(assistants.set_latest, body="AssistantVersionChange", responses=_FOUND_OR_INVALID,
         **_json("Assistant"))  # fmt: skip

# -- threads
describe(threads.create_thread, body="ThreadCreate", responses={**_INVALID, "409": "Conflict"},
         **_json("Thread"))  # fmt: skip
describe(threads.search_threads, body="ThreadSearchRequest", responses=_INVALID,
         answers=array_of("Thread"))  # fmt: skip
describe(threads.count_threads, body="ThreadCountRequest", responses=_INVALID, answers=COUNT)
describe(threads.prune_threads, body="ThreadPruneRequest", responses=_INVALID,
         **_json("ThreadPruneResponse"))  # fmt: skip
describe(threads.get_thread, responses=_FOUND_OR_INVALID, **_json("Thread"))
describe(threads.patch_thread, body="ThreadPatch", responses=_FOUND_OR_INVALID,
         **_json("Thread"))  # fmt: skip
describe(threads.delete_thread, status="204", responses=_FOUND_OR_INVALID)
describe(threads.get_state, responses=_FOUND_OR_INVALID, **_json("ThreadState"), query=[
    query("subgraphs", _BOOL, "include the state of subgraphs")])  # fmt: skip
describe(threads.update_state, body="ThreadStateUpdate", responses=_RUN_ERRORS,
         **_json("ThreadUpdateStateResponse"))  # fmt: skip
describe(threads.get_state_at_checkpoint, body="ThreadStateCheckpointRequest",
         responses=_FOUND_OR_INVALID, **_json("ThreadState"))  # fmt: skip
describe(threads.history, responses=_FOUND_OR_INVALID, answers=array_of("ThreadState"))
describe(threads.history, "get", query=[query("limit", _INT, "states to return (default 1)"),
         query("before", _STRING, "a checkpoint id: the states before it")])  # fmt: skip
describe(threads.history, "post", body="ThreadStateSearch")
describe(threads.copy_thread, responses=_FOUND_OR_INVALID, **_json("Thread"))
describe(threads.join_thread_stream, stream=True, responses=_FOUND_OR_INVALID, query=[
    query("stream_mode", {"type": "array", "items": {"enum": list(threads.THREAD_STREAM_MODES)}},
          "what to follow: run_modes (default), lifecycle, state_update"),
    _LAST_EVENT_ID])  # fmt: skip

# -- runs
for _endpoint in (runs.create_stateless, runs.stream_stateless, runs.wait_stateless):
    describe(_endpoint, body="RunCreateStateless", responses=_RUN_ERRORS)
for _endpoint in (runs.create_thread_run, runs.stream_thread_run, runs.wait_thread_run):
    describe(_endpoint, body="RunCreateStateful", responses=_RUN_ERRORS)
for _endpoint in (runs.create_stateless, runs.create_thread_run):
    describe(_endpoint, "post", **_json("Run"))
for _endpoint in (runs.stream_stateless, runs.stream_thread_run):
    describe(_endpoint, "post", stream=True)
describe(runs.create_batch, body="RunBatchCreate", responses=_RUN_ERRORS,
         answers=array_of("Run"))  # fmt: skip
describe(runs.cancel_many, body="RunsCancel", status="204", responses=_FOUND_OR_INVALID,
         query=[_ACTION])  # fmt: skip
describe(runs.list_runs, responses=_FOUND_OR_INVALID, answers=array_of("Run"), query=[
    query("limit", _INT, "default 10"), query("offset", _INT, "default 0"),
    query("status", {"enum": ["pending", "running", "error", "success", "timeout",
                              "interrupted"]}),
    query("select", {"type": "array", "items": _STRING}, "the fields to return")])  # fmt: skip
describe(runs.get_run, responses=_FOUND_OR_INVALID, **_json("Run"))
describe(runs.delete_run, status="204", responses={**_FOUND_OR_INVALID, "409": "Conflict"})
describe(runs.cancel_run, status="202", responses={**_FOUND_OR_INVALID, "409": "Conflict"},
         query=[query("wait", _BOOL, "answer once the run has stopped"), _ACTION])  # fmt: skip
describe(runs.join_run, responses=_FOUND_OR_INVALID, query=[_CANCEL_ON_DISCONNECT])
describe(runs.join_stream, stream=True, responses=_FOUND_OR_INVALID,
         query=[_CANCEL_ON_DISCONNECT, _STREAM_MODE, _LAST_EVENT_ID])  # fmt: skip
describe(runs.get_webhook, responses=_FOUND_OR_INVALID, **_json("WebhookDelivery"))
describe(runs.list_feedback, responses=_INVALID, answers=array_of("Feedback"))
describe(runs.give_feedback, body="FeedbackCreate", status="201",
         responses={**_FOUND_OR_INVALID, "409": "Conflict"}, **_json("Feedback"))  # fmt: skip

# -- crons
describe(crons.create_cron, body="CronCreate", responses=_FOUND_OR_INVALID, **_json("Cron"))
describe(crons.create_thread_cron, body="ThreadCronCreate", responses=_FOUND_OR_INVALID,
         **_json("Cron"))  # fmt: skip
describe(crons.search_crons, body="CronSearch", responses=_INVALID, answers=array_of("Cron"))
describe(crons.count_crons, body="CronCountRequest", responses=_INVALID, answers=COUNT)
describe(crons.get_cron, responses=_FOUND_OR_INVALID, **_json("Cron"))
describe(crons.patch_cron, body="CronPatch", responses=_FOUND_OR_INVALID, **_json("Cron"))
describe(crons.delete_cron, status="204", responses=_FOUND_OR_INVALID)

# -- the thread event protocol (v2)
describe(protocol.command, body="ThreadCommand", responses={**_NOT_FOUND, "400": "Malformed"},
         answers={"type": "object"})  # fmt: skip
describe(protocol.stream_events, body="ThreadEventsSubscription", stream=True,
         responses=_FOUND_OR_INVALID)  # fmt: skip

# -- store
describe(store.put_item, body="StorePutRequest", status="204", responses=_INVALID)
describe(store.get_item, responses=_FOUND_OR_INVALID, **_json("Item"), query=[
    query("namespace", _STRING, "the namespace's labels joined by '.'"),
    query("key", _STRING), query("refresh_ttl", _BOOL)])  # fmt: skip
describe(store.delete_item, body="StoreDeleteRequest", status="204", responses=_INVALID)
describe(store.search_items, body="StoreSearchRequest", responses=_INVALID,
         **_json("SearchItemsResponse"))  # fmt: skip
describe(store.list_namespaces, body="StoreListNamespacesRequest", responses=_INVALID,
         **_json("ListNamespaceResponse"))  # fmt: skip

# -- agents: MCP and A2A answer JSON-RPC (errors included, with 200)
describe(mcp.post, body="JsonRpcRequest", responses={"202": "A notification, accepted"},
         answers={"type": "object"})  # fmt: skip
describe(mcp.get, status=None, responses={"405": "Method Not Allowed"})
describe(mcp.delete, status=None, responses={"404": "Not Found (no sessions are kept)"})
describe(a2a.rpc, body="JsonRpcRequest", responses=_NOT_FOUND, answers={"type": "object"})
describe(a2a.agent_card, responses=_FOUND_OR_INVALID, answers={"type": "object"}, query=[
    query("assistant_id", _STRING, "the agent's assistant (on /.well-known/agent-card.json)")
])  # fmt: skip

# -- system and generative UI
describe(openapi.openapi, responses={}, answers={"type": "object"})
describe(openapi.docs, responses={}, media="text/html", answers=_STRING)
describe(openapi.docs_asset, responses=_NOT_FOUND, media="text/javascript", answers=_STRING)
describe(system.ok, responses={"503": "Storage unreachable"}, **_json("Health"), query=[
    query("check_db", _BOOL, "also check that storage answers")])  # fmt: skip
describe(system.ok_bare, responses={}, **_json("Health"))
describe(system.info, responses={}, **_json("ServerInfo"))
describe(metrics.metrics, responses={}, media="text/plain", answers=_STRING, query=[
    query("format", {"enum": ["prometheus", "json"]}, "Prometheus text (default) or JSON")
])  # fmt: skip
describe(ui.component, body="UIComponentRequest", tags=["UI"], media="text/html",
         answers=_STRING, responses={"404": "UI not found for the graph", **_INVALID})  # fmt: skip
describe(ui.asset, tags=["UI"], media="text/javascript", answers=_STRING, responses=_NOT_FOUND)
