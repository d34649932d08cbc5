"""Execute one run: stream the graph, keep what the result needs, report an outcome.

The executor knows no transport: it turns a prepared run into stream events (handed to
`publish`) and an `Outcome`. An interrupt is an outcome, not a failure; an exception in graph code
gives status `error`; cancellation gives `interrupted` and a timeout `timeout`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph._internal._constants import CONFIG_KEY_STREAM_MESSAGES_V2
from langgraph.errors import EmptyInputError, GraphBubbleUp, InvalidUpdateError, TaskNotFound
from langgraph.types import Command, Interrupt, Send

from graphport import serde
from graphport.engine import containment
from graphport.graphs import Graph

# Exceptions whose message is shown to the client; any other is masked (as the reference does).
_SHOWN_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RuntimeError,
    RecursionError,
    TimeoutError,
    InvalidUpdateError,
    GraphBubbleUp,
    EmptyInputError,
    TaskNotFound,
)
MASKED_MESSAGE = "An internal error occurred"

# Stream modes the API accepts, and the langgraph mode each is produced from.
_LANGGRAPH_MODE = {
    "values": "values",
    "updates": "updates",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
    "messages": "messages",
    "messages-tuple": "messages",
    "tools": "tools",
}
# The pseudo stream mode of runs started through the thread event protocol (engine/protocol.py),
# as the reference lists it: such runs stream langgraph's v2 parts, in which chat models emit
# protocol message events (`message-start`, `content-block-delta`, ...) instead of chunks.
PROTOCOL_MODE = "lifecycle"


def error_payload(exc: BaseException) -> dict[str, str]:
    """`{"error", "message"}` for an exception, masking messages outside the allow-list."""
    if isinstance(exc, _SHOWN_ERRORS):
        message = str(exc)
        if isinstance(exc, KeyError) and exc.args:
            message = repr(exc.args[0]) if len(exc.args) == 1 else str(exc.args)
    else:
        message = MASKED_MESSAGE
    return {"error": type(exc).__name__, "message": message}


def command_from_json(cmd: dict[str, Any]) -> Command[Any]:
    """The request's `command` object as a langgraph `Command`."""
    goto = cmd.get("goto")
    if goto is not None:
        items = goto if isinstance(goto, list) else [goto]
        goto = [Send(g["node"], g.get("input")) if isinstance(g, dict) else g for g in items]
    update = cmd.get("update")
    if isinstance(update, list):
        update = [tuple(pair) for pair in update]
    kwargs: dict[str, Any] = {"update": update, "goto": goto or ()}
    if "resume" in cmd:
        kwargs["resume"] = cmd["resume"]
    return Command(**kwargs)


@dataclass
class Prepared:
    """Everything the executor needs to call the graph."""

    input: Any
    config: RunnableConfig
    context: Any
    stream_mode: list[str]
    subgraphs: bool
    durability: str
    interrupt_before: Any
    interrupt_after: Any


@dataclass
class Outcome:
    status: str  # success | error | timeout | interrupted
    values: Any = None  # the last root values seen
    interrupts: list[Interrupt] = field(default_factory=list)
    error: dict[str, str] | None = None
    feedback: dict[str, str] | None = None  # feedback key -> link
    rolled_back: bool = False  # cancelled with action=rollback: the run leaves nothing behind
    exception: BaseException | None = None  # what failed the run (its traceback is logged)

    def body(self) -> bytes:
        """The /runs/wait body: final values, plus `__interrupt__` and `__feedback__`, or
        `__error__`."""
        if self.error is not None:
            return serde.dumps({"__error__": self.error})
        if not self.interrupts and not self.feedback:
            return serde.dumps(self.values if self.values is not None else {})
        out = dict(self.values) if isinstance(self.values, dict) else {}
        if self.interrupts:
            out["__interrupt__"] = self.interrupts
        if self.feedback:
            out["__feedback__"] = self.feedback
        return serde.dumps(out)


Publish = Callable[[tuple[str, ...], str, Any], None]


async def execute(graph: Graph, prep: Prepared, publish: Publish | None = None) -> Outcome:
    """Run the graph to its end and return the outcome. Exceptions raised by graph code become
    an `error` outcome; cancellation propagates to the caller."""
    outcome = Outcome(status="success")
    requested = prep.stream_mode
    modes = {"values"}  # always tracked: the result needs the final values
    for mode in requested:
        if mode in _LANGGRAPH_MODE:
            modes.add(_LANGGRAPH_MODE[mode])
    seen_interrupts: set[str] = set()

    def handle(ns: tuple[str, ...], mode: str, data: Any, interrupts: Any = ()) -> None:
        if publish is not None:
            publish(ns, mode, data)
        if not ns and mode == "values":
            if isinstance(data, dict) and "__interrupt__" in data:
                interrupts = data["__interrupt__"]
                data = {k: v for k, v in data.items() if k != "__interrupt__"}
            for item in interrupts:
                if item.id not in seen_interrupts:
                    seen_interrupts.add(item.id)
                    outcome.interrupts.append(item)
            outcome.values = data

    kwargs: dict[str, Any] = {
        "context": prep.context,
        "stream_mode": list(modes),
        "subgraphs": prep.subgraphs,
        "durability": prep.durability,
        "interrupt_before": prep.interrupt_before,
        "interrupt_after": prep.interrupt_after,
    }
    try:
        await _drive(graph, prep, kwargs, handle, publish)
    except containment.PASSES_THROUGH:
        raise
    except BaseException as exc:  # SystemExit & co. too: graph code must not stop the server
        exc = containment.unwrap(exc)
        outcome.status = "error"
        outcome.error = error_payload(exc)
        outcome.exception = exc
    return outcome


Handle = Callable[..., None]  # (namespace, mode, data[, interrupts])


async def _drive(
    graph: Graph, prep: Prepared, kwargs: dict[str, Any], handle: Handle, publish: Publish | None
) -> None:
    """Stream the graph the way the run's stream modes need, handing each chunk to `handle`."""

    def handle_chunk(chunk: Any) -> None:
        if prep.subgraphs:
            handle(*chunk)
        else:
            handle((), *chunk)

    requested = prep.stream_mode
    if "events" in requested:
        # LangChain callback events; the root graph's own stream chunks arrive among them
        root = str(prep.config.get("run_id"))
        async for event in graph.astream_events(prep.input, prep.config, version="v2", **kwargs):
            if event["event"] == "on_chain_stream" and event["run_id"] == root:
                handle_chunk(event["data"]["chunk"])
            elif publish is not None:
                publish((), "events", event)
    elif PROTOCOL_MODE in requested:
        configurable = {**prep.config["configurable"], CONFIG_KEY_STREAM_MESSAGES_V2: True}
        config: RunnableConfig = {**prep.config, "configurable": configurable}
        async for part in graph.astream(prep.input, config, version="v2", **kwargs):
            data, interrupts = part["data"], part.get("interrupts") or ()
            if interrupts and isinstance(data, dict):
                data = {**data, "__interrupt__": interrupts}  # as v1 values carry them
            handle(tuple(part["ns"]), part["type"], data, interrupts)
    else:
        async for chunk in graph.astream(prep.input, prep.config, **kwargs):
            handle_chunk(chunk)
