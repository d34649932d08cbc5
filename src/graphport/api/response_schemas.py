"""JSON Schemas of what the routes answer, for GET /openapi.json.

Written from the public Agent Server API description and the shapes `langgraph-sdk`'s types
name (its `Assistant`, `Thread`, `Run`, ...), as graphport serialises them. They describe; they
validate nothing at run time. tests/api/test_openapi.py checks real answers against them, so a
serialiser that drifts from its description fails there.
"""

from __future__ import annotations

from typing import Any

_TIME = {"type": "string", "format": "date-time"}
_UUID = {"type": "string", "format": "uuid"}
_OBJECT = {"type": "object"}
_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_ANY: dict[str, Any] = {}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _shape(title: str, required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """An object with `required` keys always present and `optional` ones sometimes; more keys
    may come (graphport and the reference add fields over time)."""
    return {
        "type": "object",
        "title": title,
        "properties": {**required, **optional},
        "required": list(required),
    }


_ASSISTANT_FIELDS = {
    "assistant_id": _UUID,
    "graph_id": _STRING,
    "config": _OBJECT,
    "context": _OBJECT,
    "metadata": _OBJECT,
    "name": _STRING,
    "description": _NULLABLE_STRING,
    "created_at": _TIME,
    "version": {"type": "integer"},
}
_CHECKPOINT = _shape(
    "CheckpointConfig",
    {"thread_id": _STRING, "checkpoint_ns": _STRING, "checkpoint_id": _STRING},
    checkpoint_map=_nullable(_OBJECT),
)
_INTERRUPT = _shape("Interrupt", {"value": _ANY}, id=_STRING)
_THREAD_STATUS = {"type": "string", "enum": ["idle", "busy", "interrupted", "error"]}
_RUN_STATUS = {
    "type": "string",
    "enum": ["pending", "running", "error", "success", "timeout", "interrupted"],
}
_STORE_ITEM_FIELDS = {
    "namespace": {"type": "array", "items": _STRING},
    "key": _STRING,
    "value": _OBJECT,
    "created_at": _TIME,
    "updated_at": _TIME,
}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_NODE = _shape("GraphNode", {"id": _STRING}, type=_STRING, data=_ANY, metadata=_ANY)
_EDGE = _shape(
    "GraphEdge",
    {"source": _STRING, "target": _STRING},
    data=_ANY,
    conditional={"type": "boolean"},
)
_GRAPH_SCHEMA_FIELDS = {
    "input_schema": _nullable(_OBJECT),
    "output_schema": _nullable(_OBJECT),
    "state_schema": _nullable(_OBJECT),
    "config_schema": _nullable(_OBJECT),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Assistant": _shape("Assistant", {**_ASSISTANT_FIELDS, "updated_at": _TIME}),
    "AssistantVersion": _shape("AssistantVersion", _ASSISTANT_FIELDS),
    "CheckpointConfig": _CHECKPOINT,
    "Interrupt": _INTERRUPT,
    "Thread": _shape(
        "Thread",
        {
            "thread_id": _UUID,
            "status": _THREAD_STATUS,
            "metadata": _OBJECT,
            "config": _OBJECT,
            "created_at": _TIME,
            "updated_at": _TIME,
            "values": _ANY,
        },
        state_updated_at=_TIME,
        error=_ANY,
        interrupts={"type": "object", "additionalProperties": {"items": _ref("Interrupt")}},
        ttl=_nullable(_OBJECT),
    ),
    "ThreadTask": _shape(
        "ThreadTask",
        {
            "id": _STRING,
            "name": _STRING,
            "error": _NULLABLE_STRING,
            "interrupts": {"type": "array", "items": _ref("Interrupt")},
            "checkpoint": _nullable(_ref("CheckpointConfig")),
            "state": _nullable(_ref("ThreadState")),
        },
        path={"type": "array"},
        result=_ANY,
    ),
    "ThreadState": _shape(
        "ThreadState",
        {
            "values": {"type": ["object", "array", "null"]},
            "next": {"type": "array", "items": _STRING},
            "tasks": {"type": "array", "items": _ref("ThreadTask")},
            "checkpoint": _nullable(_ref("CheckpointConfig")),
            "metadata": _nullable(_OBJECT),
            "created_at": _nullable(_TIME),
            "parent_checkpoint": _nullable(_ref("CheckpointConfig")),
            "interrupts": {"type": "array", "items": _ref("Interrupt")},
        },
        checkpoint_id=_NULLABLE_STRING,
        parent_checkpoint_id=_NULLABLE_STRING,
    ),
    "ThreadUpdateStateResponse": _shape(
        "ThreadUpdateStateResponse", {"checkpoint": _ref("CheckpointConfig")}
    ),
    "ThreadPruneResponse": _shape("ThreadPruneResponse", {"pruned_count": {"type": "integer"}}),
    "Run": _shape(
        "Run",
        {
            "run_id": _UUID,
            "thread_id": _UUID,
            "assistant_id": _UUID,
            "created_at": _TIME,
            "updated_at": _TIME,
            "status": _RUN_STATUS,
            "metadata": _OBJECT,
            "kwargs": _OBJECT,
            "multitask_strategy": {
                "type": "string",
                "enum": ["reject", "interrupt", "rollback", "enqueue"],
            },
        },
    ),
    "Cron": _shape(
        "Cron",
        {
            "cron_id": _UUID,
            "assistant_id": _UUID,
            "thread_id": _nullable(_UUID),
            "end_time": _nullable(_TIME),
            "schedule": _STRING,
            "created_at": _TIME,
            "updated_at": _TIME,
            "payload": _OBJECT,
            "user_id": _NULLABLE_STRING,
            "next_run_date": _nullable(_TIME),
            "metadata": _OBJECT,
            "enabled": {"type": "boolean"},
        },
        timezone=_NULLABLE_STRING,
        on_run_completed=_NULLABLE_STRING,
    ),
    "GraphSchema": _shape(
        "GraphSchema",
        {"graph_id": _STRING, **_GRAPH_SCHEMA_FIELDS},
        context_schema=_nullable(_OBJECT),
    ),
    "Subgraphs": {
        "type": "object",
        "title": "Subgraphs",
        "description": "Each subgraph's schemas, by its namespace.",
        "additionalProperties": _shape(
            "SubgraphSchema", _GRAPH_SCHEMA_FIELDS, context_schema=_nullable(_OBJECT)
        ),
    },
    "GraphDrawing": _shape(
        "GraphDrawing",
        {
            "nodes": {"type": "array", "items": _NODE},
            "edges": {"type": "array", "items": _EDGE},
        },
    ),
    "Item": _shape("Item", _STORE_ITEM_FIELDS),
    "SearchItemsResponse": _shape(
        "SearchItemsResponse",
        {
            "items": {
                "type": "array",
                "items": _shape("SearchItem", _STORE_ITEM_FIELDS, score=_NULLABLE_NUMBER),
            }
        },
    ),
    "ListNamespaceResponse": _shape(
        "ListNamespaceResponse",
        {"namespaces": {"type": "array", "items": {"type": "array", "items": _STRING}}},
    ),
    "WebhookDelivery": _shape(
        "WebhookDelivery",
        {
            "run_id": _UUID,
            "thread_id": _nullable(_STRING),
            "url": _STRING,
            "status": _STRING,
            "created_at": _TIME,
            "updated_at": _TIME,
            "attempts": {
                "type": "array",
                "items": _shape(
                    "WebhookAttempt",
                    {"attempt": {"type": "integer"}, "url": _STRING, "at": _TIME},
                    status_code={"type": ["integer", "null"]},
                    error=_NULLABLE_STRING,
                    duration_ms={"type": ["number", "null"]},
                ),
            },
        },
    ),
    "Feedback": _shape(
        "Feedback",
        {"feedback_id": _UUID, "run_id": _UUID, "key": _STRING, "created_at": _TIME},
        score={"type": ["number", "null"]},
        value=_ANY,
        comment=_NULLABLE_STRING,
    ),
    "Health": _shape("Health", {"ok": {"type": "boolean"}}, services=_OBJECT),
    "ServerInfo": _shape("ServerInfo", {"version": _STRING, "flags": _OBJECT}),
}


def array_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


COUNT = {"type": "integer", "title": "Count"}
