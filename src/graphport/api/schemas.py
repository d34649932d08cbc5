"""JSON Schemas of request bodies, written from the public Agent Server OpenAPI description.

They are validated with jsonschema-rs, whose messages are the `detail` strings clients see, so the
layout of each document (which `$ref`s, which `allOf`) matters: it shows in the message paths.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from graphport.storage.base import CRON_SORT_FIELDS

STREAM_MODES = [
    "values",
    "messages",
    "messages-tuple",
    "tasks",
    "checkpoints",
    "updates",
    "events",
    "debug",
    "custom",
]

_ANY_JSON: dict[str, Any] = {
    "type": ["object", "array", "number", "string", "boolean", "null"],
}
# Keys may not hold a NUL character, nor spell one as an escape.
_NO_NUL_KEYS = {"propertyNames": {"pattern": "^(?!.*\\\\[uU]0000)[^\\u0000]*$"}}

_SEND = {
    "type": "object",
    "title": "Send",
    "properties": {
        "node": {"type": "string", "title": "Node"},
        "input": {**_ANY_JSON, "title": "Message"},
    },
    "required": ["node", "input"],
}

_COMMAND = {
    "type": "object",
    "title": "Command",
    "properties": {
        "update": {"type": ["object", "array", "null"], "title": "Update"},
        "resume": {**_ANY_JSON, "title": "Resume"},
        "goto": {
            "anyOf": [
                {"$ref": "#/components/schemas/Send"},
                {"type": "array", "items": {"$ref": "#/components/schemas/Send"}},
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "null"},
            ],
            "title": "Goto",
        },
    },
}

_CONFIG = {
    "type": "object",
    "title": "Config",
    **_NO_NUL_KEYS,
    "properties": {
        "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags"},
        "recursion_limit": {"type": "integer", "title": "Recursion Limit"},
        "configurable": {"type": "object", "title": "Configurable", **_NO_NUL_KEYS},
    },
}

_RUN_CREATE_STATELESS: dict[str, Any] = {
    "type": "object",
    "title": "RunCreateStateless",
    "required": ["assistant_id"],
    "properties": {
        "assistant_id": {
            "anyOf": [
                {"type": "string", "format": "uuid", "title": "Assistant Id"},
                {"type": "string", "title": "Graph Id"},
            ]
        },
        "input": {
            "anyOf": [
                {"type": "object"},
                {"type": "array"},
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
            ],
            "title": "Input",
        },
        "command": {
            "anyOf": [{"$ref": "#/components/schemas/Command"}, {"type": "null"}],
            "title": "Input",
        },
        "metadata": {"type": "object", "title": "Metadata"},
        "config": _CONFIG,
        "context": {"type": "object", "title": "Context", **_NO_NUL_KEYS},
        "webhook": {
            "type": "string",
            "maxLength": 65536,
            "minLength": 1,
            "format": "uri-reference",
            "title": "Webhook",
        },
        "stream_mode": {
            "anyOf": [
                {"type": "array", "items": {"type": "string", "enum": STREAM_MODES}},
                {"type": "string", "enum": STREAM_MODES},
            ],
            "title": "Stream Mode",
            "default": ["values"],
        },
        "feedback_keys": {"type": "array", "items": {"type": "string"}, "title": "Feedback Keys"},
        "stream_subgraphs": {"type": "boolean", "title": "Stream Subgraphs", "default": False},
        "stream_resumable": {"type": "boolean", "title": "Stream Resumable", "default": False},
        "on_completion": {
            "type": "string",
            "enum": ["delete", "keep"],
            "title": "On Completion",
            "default": "delete",
        },
        "after_seconds": {"type": "number", "title": "After Seconds"},
        "checkpoint_during": {"type": "boolean", "title": "Checkpoint During", "default": False},
        "durability": {
            "type": "string",
            "enum": ["sync", "async", "exit"],
            "title": "Durability",
            "default": "async",
        },
    },
}

_INTERRUPT_NODES = {
    "anyOf": [{"type": "string", "enum": ["*"]}, {"type": "array", "items": {"type": "string"}}]
}
_RUN_CREATE_STATEFUL = {
    **_RUN_CREATE_STATELESS,
    "title": "RunCreateStateful",
    "properties": {
        **{k: v for k, v in _RUN_CREATE_STATELESS["properties"].items() if k != "on_completion"},
        "checkpoint": {"type": "object", "title": "Checkpoint"},
        "checkpoint_id": {"type": "string", "format": "uuid", "title": "Checkpoint Id"},
        "interrupt_before": {**_INTERRUPT_NODES, "title": "Interrupt Before"},
        "interrupt_after": {**_INTERRUPT_NODES, "title": "Interrupt After"},
        "multitask_strategy": {
            "type": "string",
            "enum": ["reject", "rollback", "interrupt", "enqueue"],
            "title": "Multitask Strategy",
            "default": "enqueue",
        },
        "if_not_exists": {
            "type": "string",
            "enum": ["create", "reject"],
            "title": "If Not Exists",
            "default": "reject",
        },
    },
}

COMPONENTS = {
    "schemas": {
        "RunCreateStateless": _RUN_CREATE_STATELESS,
        "RunCreateStateful": _RUN_CREATE_STATEFUL,
        "Command": _COMMAND,
        "Send": _SEND,
    }
}


def _run_create_validator(schema_name: str) -> Any:
    """A validator for a run body; the wait and stream routes also take `on_disconnect`, which
    the reference adds beside the shared schema (its messages show `schema["allOf"][1]`)."""
    return jsonschema_rs.validator_for(
        {
            "allOf": [
                {"$ref": f"#/components/schemas/{schema_name}"},
                {
                    "properties": {
                        "on_disconnect": {
                            "type": "string",
                            "enum": ["cancel", "continue"],
                            "title": "On Disconnect",
                            "default": "continue",
                        }
                    }
                },
            ],
            "components": COMPONENTS,
        }
    )


RUN_CREATE_STATELESS = _run_create_validator("RunCreateStateless")
RUN_CREATE_STATEFUL = _run_create_validator("RunCreateStateful")


# -- assistants --------------------------------------------------------------------------------
# Written from the public OpenAPI description (AssistantCreate, AssistantPatch, ...). Each is a
# root document, so jsonschema-rs messages read `schema["properties"][...]` as the reference's
# do; `config` is checked again on its own against ASSISTANT_CONFIG, as the reference does.

_AN_OBJECT = {"type": "object"}
_PAGE_LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}
_PAGE_OFFSET = {"type": "integer", "minimum": 0, "default": 0}
ASSISTANT_FIELDS = [
    "assistant_id", "graph_id", "name", "description", "config", "context", "created_at",
    "updated_at", "metadata", "version",
]  # fmt: skip
ASSISTANT_SORT_FIELDS = ["assistant_id", "created_at", "updated_at", "name", "graph_id"]


# Every request body schema by its title: /openapi.json's components (graphport.api.openapi)
DOCUMENTS: dict[str, dict[str, Any]] = {}


def _compiled(document: dict[str, Any]) -> Any:
    """A validator of a body's schema, which is also its description in /openapi.json."""
    DOCUMENTS[document["title"]] = document
    return jsonschema_rs.validator_for(document)


def _validator(title: str, properties: dict[str, Any], **extra: Any) -> Any:
    return _compiled({"type": "object", "title": title, "properties": properties, **extra})


ASSISTANT_CONFIG = jsonschema_rs.validator_for(
    {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "recursion_limit": {"type": "integer"},
            "configurable": {"type": "object", **_NO_NUL_KEYS},
        },
    }
)
ASSISTANT_CREATE = _validator(
    "AssistantCreate",
    {
        "assistant_id": {"type": "string", "format": "uuid"},
        "graph_id": {"type": "string"},
        "config": {"type": "object", **_NO_NUL_KEYS},
        "context": {"type": "object", **_NO_NUL_KEYS},
        "metadata": _AN_OBJECT,
        "if_exists": {"type": "string", "enum": ["raise", "do_nothing"], "default": "raise"},
        "name": {"type": "string"},
        "description": {"type": ["string", "null"]},
    },
    required=["graph_id"],
)
ASSISTANT_PATCH = _validator(
    "AssistantPatch",
    {
        "graph_id": {"type": "string"},
        "config": {"type": "object", **_NO_NUL_KEYS},
        "context": {"type": "object", **_NO_NUL_KEYS},
        "metadata": _AN_OBJECT,
        "name": {"type": "string"},
        "description": {"type": "string"},
    },
)
ASSISTANT_SEARCH = _validator(
    "AssistantSearchRequest",
    {
        "metadata": _AN_OBJECT,
        "graph_id": {"type": "string"},
        "name": {"type": "string"},
        "limit": _PAGE_LIMIT,
        "offset": _PAGE_OFFSET,
        "sort_by": {"type": "string", "enum": ASSISTANT_SORT_FIELDS},
        "sort_order": {"type": "string", "enum": ["asc", "desc"]},
        "select": {"type": "array", "items": {"type": "string", "enum": ASSISTANT_FIELDS}},
    },
)
ASSISTANT_COUNT = _validator(
    "AssistantCountRequest",
    {"metadata": _AN_OBJECT, "graph_id": {"type": "string"}, "name": {"type": "string"}},
)
ASSISTANT_VERSIONS = _validator(
    "AssistantVersionsSearchRequest",
    {"metadata": _AN_OBJECT, "limit": _PAGE_LIMIT, "offset": _PAGE_OFFSET},
)
ASSISTANT_LATEST = _validator("AssistantVersionChange", {"version": {"type": "integer"}})


# -- crons -------------------------------------------------------------------------------

_CRON_INTERRUPT_NODES = {
    "anyOf": [{"type": "string", "enum": ["*"]}, {"items": {"type": "string"}, "type": "array"}]
}
CRON_FIELDS = [
    "cron_id", "assistant_id", "thread_id", "on_run_completed", "end_time", "schedule",
    "timezone", "created_at", "updated_at", "user_id", "payload", "next_run_date", "metadata",
    "enabled",
]  # fmt: skip


def _run_fields(*, end_time: dict[str, Any], assistant: bool) -> dict[str, Any]:
    """The properties every cron body shares, in the reference's order, up to the webhook."""
    fields: dict[str, Any] = {
        "schedule": {"type": "string", "title": "Schedule"},
        "timezone": {"type": "string", "title": "Timezone"},
        "end_time": end_time,
    }
    if assistant:
        fields["assistant_id"] = {
            "anyOf": [
                {"type": "string", "format": "uuid", "title": "Assistant Id"},
                {"type": "string", "title": "Graph Id"},
            ]
        }
    fields |= {
        "input": {
            "anyOf": [{"items": {"type": "object"}, "type": "array"}, {"type": "object"}],
            "title": "Input",
        },
        "metadata": {"type": "object", "title": "Metadata"},
        "config": {
            "properties": {
                "tags": {"items": {"type": "string"}, "type": "array", "title": "Tags"},
                "recursion_limit": {"type": "integer", "title": "Recursion Limit"},
                "configurable": {"type": "object", "title": "Configurable", **_NO_NUL_KEYS},
            },
            "type": "object",
            "title": "Config",
            **_NO_NUL_KEYS,
        },
        "context": {"type": "object", "title": "Context", **_NO_NUL_KEYS},
        "webhook": {
            "type": "string",
            "maxLength": 65536,
            "minLength": 1,
            "format": "uri-reference",
            "title": "Webhook",
        },
        "interrupt_before": {**_CRON_INTERRUPT_NODES, "title": "Interrupt Before"},
        "interrupt_after": {**_CRON_INTERRUPT_NODES, "title": "Interrupt After"},
    }
    return fields


_STREAM_FIELDS: dict[str, Any] = {
    "enabled": {"type": "boolean", "title": "Enabled", "default": True},
    "stream_mode": {
        "anyOf": [
            {"items": {"type": "string", "enum": STREAM_MODES}, "type": "array"},
            {"type": "string", "enum": STREAM_MODES},
        ],
        "title": "Stream Mode",
        "default": ["values"],
    },
    "stream_subgraphs": {"type": "boolean", "title": "Stream Subgraphs", "default": False},
    "stream_resumable": {"type": "boolean", "title": "Stream Resumable", "default": False},
    "durability": {
        "type": "string",
        "enum": ["sync", "async", "exit"],
        "title": "Durability",
        "default": "async",
    },
}
_END_TIME = {"type": "string", "format": "date-time", "title": "End Time"}
_ON_RUN_COMPLETED = {
    "type": "string",
    "enum": ["delete", "keep"],
    "title": "On Run Completed",
}
_UUID = {"type": "string", "format": "uuid"}

CRON_CREATE = _compiled(
    {
        "properties": {
            **_run_fields(end_time=_END_TIME, assistant=True),
            "on_run_completed": {**_ON_RUN_COMPLETED, "default": "delete"},
            **_STREAM_FIELDS,
        },
        "type": "object",
        "required": ["assistant_id", "schedule"],
        "additionalProperties": True,
        "title": "CronCreate",
    }
)
THREAD_CRON_CREATE = _compiled(
    {
        "properties": {
            **_run_fields(end_time=_END_TIME, assistant=True),
            "multitask_strategy": {
                "type": "string",
                "enum": ["reject", "rollback", "interrupt", "enqueue"],
                "title": "Multitask Strategy",
                "default": "enqueue",
            },
            **_STREAM_FIELDS,
        },
        "type": "object",
        "required": ["assistant_id", "schedule"],
        "title": "ThreadCronCreate",
    }
)
# jsonschema-rs 0.44 skips `required` in an object schema with 15 properties or more (the
# reference then fails with a KeyError, a 500): it is checked on its own.
CRON_CREATE_REQUIRED = jsonschema_rs.validator_for(
    {"type": "object", "required": ["assistant_id", "schedule"]}
)
CRON_PATCH = _compiled(
    {
        "properties": {
            **_run_fields(end_time={**_END_TIME, "type": ["string", "null"]}, assistant=False),
            "on_run_completed": _ON_RUN_COMPLETED,
            **_STREAM_FIELDS,
        },
        "type": "object",
        "title": "CronPatch",
    }
)
CRON_SEARCH = _compiled(
    {
        "properties": {
            "assistant_id": {**_UUID, "title": "Assistant Id"},
            "thread_id": {**_UUID, "title": "Thread Id"},
            "enabled": {"type": "boolean", "title": "Enabled"},
            "metadata": {"type": "object", "title": "Metadata"},
            "limit": {
                "type": "integer",
                "title": "Limit",
                "default": 10,
                "minimum": 1,
                "maximum": 1000,
            },
            "offset": {"type": "integer", "title": "Offset", "default": 0, "minimum": 0},
            "sort_by": {
                "type": "string",
                "title": "Sort By",
                "default": "created_at",
                "enum": list(CRON_SORT_FIELDS),
            },
            "sort_order": {
                "type": "string",
                "title": "Sort Order",
                "default": "desc",
                "enum": ["asc", "desc"],
            },
            "select": {
                "type": "array",
                "items": {"type": "string", "enum": CRON_FIELDS},
                "title": "Select",
            },
        },
        "type": "object",
        "required": [],
        "title": "CronSearch",
    }
)
CRON_COUNT = _compiled(
    {
        "properties": {
            "assistant_id": {**_UUID, "title": "Assistant Id"},
            "thread_id": {**_UUID, "title": "Thread Id"},
            "metadata": {"type": "object", "title": "Metadata"},
        },
        "type": "object",
        "title": "CronCountRequest",
    }
)


# -- store ------------------------------------------------------------------------------
# The reference's schemas of the fields whose type the store relies on (its 422 messages).
STORE_PUT_TYPES = jsonschema_rs.validator_for(
    {
        "type": "object",
        "properties": {
            "index": {
                "oneOf": [
                    {"type": "boolean", "enum": [False]},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "null"},
                ]
            },
            "ttl": {"type": ["number", "null"]},
        },
    }
)
STORE_SEARCH_TYPES = jsonschema_rs.validator_for(
    {
        "type": "object",
        "properties": {
            "query": {"type": ["string", "null"]},
            "refresh_ttl": {"type": ["boolean", "null"]},
        },
    }
)


# -- bodies checked by code -----------------------------------------------------------------
# Threads, store, batch and cancel bodies are checked field by field in their handlers (the
# reference's messages for them are not jsonschema's); these documents only describe them.

_NAMESPACE = {"type": "array", "items": {"type": "string"}, "title": "Namespace"}
_TTL = {
    "anyOf": [
        {"type": "number"},
        {
            "type": "object",
            "properties": {
                "ttl": {"type": "number", "title": "Minutes"},
                "strategy": {"type": "string", "enum": ["delete", "keep_latest"]},
            },
            "required": ["ttl"],
        },
    ],
    "title": "TTL",
}
_THREAD_FILTERS = {
    "ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
    "metadata": _AN_OBJECT,
    "values": _AN_OBJECT,
    "status": {"type": "string", "enum": ["idle", "busy", "interrupted", "error"]},
}
_DESCRIBED: list[dict[str, Any]] = [
    {
        "title": "ThreadCreate",
        "properties": {
            "thread_id": _UUID,
            "metadata": _AN_OBJECT,
            "if_exists": {"type": "string", "enum": ["raise", "do_nothing"], "default": "raise"},
            "ttl": _TTL,
            "supersteps": {"type": "array", "items": _AN_OBJECT},
        },
    },
    {"title": "ThreadPatch", "properties": {"metadata": _AN_OBJECT, "ttl": _TTL}},
    {
        "title": "ThreadSearchRequest",
        "properties": {
            **_THREAD_FILTERS,
            "limit": _PAGE_LIMIT,
            "offset": _PAGE_OFFSET,
            "sort_by": {"type": "string", "default": "created_at"},
            "sort_order": {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
            "select": {"type": "array", "items": {"type": "string"}},
        },
    },
    {"title": "ThreadCountRequest", "properties": _THREAD_FILTERS},
    {
        "title": "ThreadPruneRequest",
        "properties": {
            "thread_ids": {"type": "array", "items": _UUID},
            "strategy": {"type": "string", "enum": ["delete", "keep_latest"], "default": "delete"},
        },
    },
    {
        "title": "ThreadStateUpdate",
        "properties": {
            "values": {"type": ["object", "array", "null"]},
            "as_node": {"type": "string"},
            "checkpoint": _AN_OBJECT,
            "checkpoint_id": _UUID,
        },
    },
    {
        "title": "ThreadStateCheckpointRequest",
        "properties": {"checkpoint": _AN_OBJECT, "subgraphs": {"type": "boolean"}},
        "required": ["checkpoint"],
    },
    {
        "title": "ThreadStateSearch",
        "properties": {
            "limit": {"type": "integer", "minimum": 1, "default": 10},
            "before": {"anyOf": [_AN_OBJECT, {"type": "string"}]},
            "metadata": _AN_OBJECT,
            "checkpoint": _AN_OBJECT,
        },
    },
    {
        "title": "RunBatchCreate",
        "type": "array",
        "items": {"$ref": "#/components/schemas/RunCreateStateless"},
    },
    {
        "title": "RunsCancel",
        "properties": {
            "status": {"type": "string", "enum": ["pending", "running", "all"]},
            "thread_id": _UUID,
            "run_ids": {"type": "array", "items": _UUID},
        },
    },
    {
        "title": "FeedbackCreate",
        "properties": {"score": {"type": "number"}, "value": {}, "comment": {"type": "string"}},
        "additionalProperties": False,
    },
    {
        "title": "StorePutRequest",
        "properties": {
            "namespace": _NAMESPACE,
            "key": {"type": "string"},
            "value": _AN_OBJECT,
            "index": {"anyOf": [{"enum": [False]}, {"type": "array", "items": {"type": "string"}}]},
            "ttl": {"type": ["number", "null"], "title": "Minutes"},
        },
        "required": ["namespace", "key", "value"],
    },
    {
        "title": "StoreDeleteRequest",
        "properties": {"namespace": _NAMESPACE, "key": {"type": "string"}},
        "required": ["key"],
    },
    {
        "title": "StoreSearchRequest",
        "properties": {
            "namespace_prefix": _NAMESPACE,
            "filter": _AN_OBJECT,
            "limit": {"type": "integer", "default": 10},
            "offset": {"type": "integer", "default": 0},
            "query": {"type": ["string", "null"]},
            "refresh_ttl": {"type": ["boolean", "null"]},
        },
    },
    {
        "title": "StoreListNamespacesRequest",
        "properties": {
            "prefix": _NAMESPACE,
            "suffix": _NAMESPACE,
            "max_depth": {"type": "integer"},
            "limit": {"type": "integer", "default": 100},
            "offset": {"type": "integer", "default": 0},
        },
    },
    {
        "title": "ThreadCommand",
        "properties": {
            "id": {"type": "integer"},
            "method": {"type": "string", "examples": ["run.start", "input.respond"]},
            "params": _AN_OBJECT,
        },
        "required": ["id", "method"],
    },
    {
        "title": "ThreadEventsSubscription",
        "properties": {
            "channels": {"type": "array", "items": {"type": "string"}},
            "namespaces": {"type": "array", "items": {"type": "array"}},
            "depth": {"type": "integer"},
            "since": {"type": "integer", "title": "Replay the events after this sequence"},
        },
    },
    {
        "title": "UIComponentRequest",
        "properties": {"name": {"type": "string", "title": "Component name"}, "props": _AN_OBJECT},
        "required": ["name"],
    },
    {
        "title": "JsonRpcRequest",
        "properties": {
            "jsonrpc": {"const": "2.0"},
            "id": {"type": ["string", "integer", "null"]},
            "method": {"type": "string"},
            "params": {"type": ["object", "array"]},
        },
        "required": ["jsonrpc", "method"],
    },
]
for _document in _DESCRIBED:
    DOCUMENTS[_document["title"]] = {"type": "object", **_document}
