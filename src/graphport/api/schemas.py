"""JSON Schemas of request bodies, written from the public Agent Server OpenAPI description.

They are validated with jsonschema-rs, whose messages are the `detail` strings clients see, so the
layout of each document (which `$ref`s, which `allOf`) matters: it shows in the message paths.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

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

_COMPONENTS = {
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
            "components": _COMPONENTS,
        }
    )


RUN_CREATE_STATELESS = _run_create_validator("RunCreateStateless")
RUN_CREATE_STATEFUL = _run_create_validator("RunCreateStateful")
