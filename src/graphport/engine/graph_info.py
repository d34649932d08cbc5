"""What a graph says about itself, for the assistants API: its drawing, its JSON Schemas
(input, output, state, config, context) and its subgraphs'. Graph code may fail here: a schema
that cannot be made is None, a graph that cannot be drawn is a 422."""

from __future__ import annotations

import warnings
from typing import Any, cast

from langgraph._internal._pydantic import create_model
from langgraph.channels.base import BaseChannel
from pydantic import TypeAdapter

from graphport import errors
from graphport.graphs import Graph

NOT_DRAWABLE = "The graph does not support visualization"


async def drawing(graph: Graph, xray: int | bool) -> dict[str, Any]:
    """The graph's nodes and edges (`xray`: how deep into subgraphs)."""
    try:
        drawable = await graph.aget_graph(xray=xray)
    except NotImplementedError:
        raise errors.ValidationFailed(NOT_DRAWABLE) from None
    data: dict[str, Any] = drawable.to_json()
    for node in data.get("nodes", []):
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)  # the runnable's import path
    return data


async def subgraph_schemas(
    graph: Graph, namespace: str | None, recurse: bool
) -> dict[str, dict[str, Any]]:
    """The schemas of each subgraph, by namespace."""
    try:
        return {
            # a subgraph is a Pregel; whatever else fails inside `_try`, giving None schemas
            ns: schemas(cast(Graph, sub))
            async for ns, sub in graph.aget_subgraphs(namespace=namespace, recurse=recurse)
        }
    except NotImplementedError:
        raise errors.ValidationFailed(NOT_DRAWABLE) from None


def schemas(graph: Graph) -> dict[str, Any]:
    """The JSON Schemas of a graph; None for any that cannot be made."""
    return {
        "input_schema": _try(graph.get_input_jsonschema),
        "output_schema": _try(graph.get_output_jsonschema),
        "state_schema": _try(lambda: _state_jsonschema(graph)),
        "config_schema": _try(lambda: _configurable_jsonschema(graph)),
        "context_schema": _try(graph.get_context_jsonschema),
    }


def _try(fn: Any) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except Exception:
        return None


def _state_jsonschema(graph: Graph) -> dict[str, Any]:
    """One field per stream channel, typed by what the channel accepts (Any when that type
    has no JSON Schema)."""
    fields: dict[str, Any] = {}
    for key in graph.stream_channels_list:
        channel = graph.channels[key]
        kind: Any = channel.UpdateType if isinstance(channel, BaseChannel) else Any
        try:
            TypeAdapter(kind).json_schema()
        except Exception:
            kind = Any
        fields[key] = (kind, None)
    return create_model(graph.get_name("State"), field_definitions=fields).model_json_schema()


# Keys langgraph puts in `configurable` itself, not settings a client could give.
_INTERNAL_CONFIGURABLE = (
    "__pregel_checkpointer",
    "__pregel_store",
    "checkpoint_id",
    "checkpoint_ns",
    "thread_id",
)


def _configurable_jsonschema(graph: Graph) -> dict[str, Any]:
    """The schema of the config's `configurable` part only (for a graph with a context schema,
    that schema); {} when the graph declares none."""
    fields = getattr(graph.config_schema(), "model_fields", None) or {}
    if "configurable" not in fields:
        return {}
    annotation: Any = fields["configurable"].annotation
    schema: dict[str, Any] = TypeAdapter(annotation).json_schema()
    for key in _INTERNAL_CONFIGURABLE:
        schema.get("properties", {}).pop(key, None)
    config_type = getattr(graph, "config_type", None)
    if config_type is not None and hasattr(config_type, "__name__"):
        schema["title"] = config_type.__name__
    return schema
