"""A thread's run events -> events of the thread event protocol (`/threads/{tid}/stream/events`).

Runs publish their events on the bus in the shapes of `/runs/stream` (events.py); a thread's
subscribers receive every run of the thread in order, runs one after the other. `Translator`
turns that sequence into protocol events, as the reference frames them:

  metadata {run_id, attempt}      lifecycle `running` (graph_name)
  values[|ns]                     values; `__interrupt__` becomes `input.requested` events
  updates[|ns]                    updates, one per node, the node in `params.node`
  messages[|ns] [event, meta]     messages: the protocol message event (chat models stream them
                                  in protocol runs); a whole message a node returned is not sent
  custom, tools, tasks, checkpoints   passed through; tasks also drive subgraph lifecycle
                                  (`started` on a subgraph's first task, a terminal status on the
                                  result of the parent task that ran it)
  error, metadata {run_done}      the run's terminal lifecycle: completed, interrupted or failed
                                  (also for a cancelled run, and for one that never started)

Messages inside payloads are written compactly, as the reference does: type, content, id and
only the fields that carry something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

RUN_ENDED = "graphport:run_ended"  # an in-process marker: {run_id, body}, after a run's end
_PASSED_THROUGH = frozenset({"custom", "tools", "checkpoints"})
CANCELLED = {"error": "UserInterrupt", "message": "Run was cancelled"}


@dataclass(slots=True)
class Emitted:
    """A protocol event before the thread's log numbers it."""

    method: str
    namespace: list[str]
    data: Any
    event_id: str | None = None  # synthesized events get deterministic ids
    extra: dict[str, Any] | None = None  # more `params` fields (`node` of updates)


@dataclass
class Subgraph:
    namespace: tuple[str, ...]
    graph_name: str
    trigger: str | None
    status: str = "started"


@dataclass
class RunTrack:
    """What the thread's log knows about one run."""

    run_id: str
    graph_name: str | None = None
    status: str = "pending"  # pending | running | completed | failed | interrupted
    error: dict[str, Any] | None = None
    interrupts: dict[str, Any] = field(default_factory=dict)  # id -> value, as announced
    paused: bool = False  # stopped by an interrupt (`interrupt_before` ones have no value)
    held: list[Emitted] = field(default_factory=list)  # its input.requested, sent at its end
    subgraphs: dict[tuple[str, ...], Subgraph] = field(default_factory=dict)

    @property
    def ended(self) -> bool:
        return self.status in ("completed", "failed", "interrupted")

    def tree(self) -> dict[str, Any]:
        """`agent.getTree`: the run's graph and the subgraphs it entered, nested."""
        status = "started" if self.status == "pending" else self.status
        nodes: dict[tuple[str, ...], dict[str, Any]] = {
            (): {"namespace": [], "status": status, "graph_name": self.graph_name or ""}
        }
        for ns in sorted(self.subgraphs, key=len):
            sub = self.subgraphs[ns]
            node = {"namespace": list(ns), "status": sub.status, "graph_name": sub.graph_name}
            nodes[ns] = node
            parent = nodes.get(ns[:-1], nodes[()])
            parent.setdefault("children", []).append(node)
        return nodes[()]


class Translator:
    """Turns one thread's run events into protocol events (stateful: runs, interrupts)."""

    def __init__(self) -> None:
        self.runs: dict[str, RunTrack] = {}
        self.current: RunTrack | None = None  # the run executing now
        self.started: RunTrack | None = None  # the last run that started
        self.latest: RunTrack | None = None  # the last run heard of (maybe still pending)
        self._loose_error: dict[str, Any] | None = None  # an error before its run started

    def track(self, run_id: str, graph_name: str | None = None) -> RunTrack:
        run = self.runs.get(run_id)
        if run is None:
            run = self.runs[run_id] = RunTrack(run_id, graph_name)
            if len(self.runs) > 100:  # keep the recent ones (the latest is what getTree reads)
                for old in list(self.runs)[:-100]:
                    if self.runs[old] is not self.current:
                        del self.runs[old]
        elif graph_name and not run.graph_name:
            run.graph_name = graph_name
        self.latest = run
        return run

    def pending_interrupts(self) -> dict[str, Any]:
        """Interrupts announced by the last run that started."""
        return self.started.interrupts if self.started is not None else {}

    def shown(self, run_id: str | None) -> RunTrack | None:
        """The run `agent.getTree` shows: the one named, else the executing or last one."""
        if run_id:
            return self.runs.get(run_id)
        return self.current or self.started or self.latest

    def feed(self, event: str, raw: bytes) -> list[Emitted]:
        mode, _, rest = event.partition("|")
        if mode in ("metadata", "error", RUN_ENDED):
            return self._control(mode, orjson.loads(raw))
        if mode not in ("values", "updates", "messages", "tasks") and mode not in _PASSED_THROUGH:
            return []  # state updates, feedback, legacy message shapes, debug, events
        ns = rest.split("|") if rest else []
        data = orjson.loads(raw)
        if mode == "values":
            return self._values(ns, data)
        if mode == "updates":
            return self._updates(ns, data)
        if mode == "messages":
            return self._messages(ns, data)
        if mode == "tasks":
            return self._tasks(ns, data)
        return [Emitted(mode, ns, data)]

    # -- runs --------------------------------------------------------------------------------

    def _control(self, kind: str, data: Any) -> list[Emitted]:
        if kind == "error":
            if self.current is not None:
                self.current.error = data
            else:
                self._loose_error = data
            return []
        if kind == "metadata" and "attempt" in data:
            run = self.track(data["run_id"])
            run.status = "running"
            self.current = self.started = run
            return [self._lifecycle(run, (), "running")]
        if kind == "metadata" and data.get("status") == "run_done":
            run = self.track(data["run_id"])
            # a run that executed; its start is unseen if it was cancelled before its first
            # step (its error came first) or began before the thread was followed
            error = run.error if run is self.current else self._loose_error
            return self._end(run, error)
        if kind == RUN_ENDED:  # the run's result: only news if the run never started
            known = self.runs.get(data["run_id"])
            if known is None or known.ended or known is self.current:
                return []
            body = data.get("body")
            error = body.get("__error__") if isinstance(body, dict) else None
            return self._end(known, error or CANCELLED)
        return []

    def _end(self, run: RunTrack, error: dict[str, Any] | None) -> list[Emitted]:
        if run.ended:
            return []
        if self.current is run:
            self.current = None
        self._loose_error = None
        if error is not None:
            run.status, message = "failed", error.get("message") or error.get("error")
        else:
            run.status, message = ("interrupted" if run.paused else "completed"), None
        # the interrupts it announced: once its end is stored, as the reference (a client that
        # sees one reads the thread `interrupted`, its state at the interrupt)
        out, run.held = run.held, []
        for sub in list(run.subgraphs.values()):
            if sub.status == "started":
                sub.status = run.status
                out.append(self._lifecycle(run, sub.namespace, run.status, message, sub))
        out.append(self._lifecycle(run, (), run.status, message))
        return out

    def _lifecycle(
        self,
        run: RunTrack,
        ns: tuple[str, ...],
        status: str,
        error: str | None = None,
        sub: Subgraph | None = None,
    ) -> Emitted:
        name = sub.graph_name if sub is not None else run.graph_name
        data: dict[str, Any] = {"event": status}
        if name:
            data["graph_name"] = name
        if error is not None:
            data["error"] = error
        event_id = f"synth:{run.run_id}:lc|{'|'.join(ns)}|{status}"
        return Emitted("lifecycle", list(ns), data, event_id)

    # -- payloads ----------------------------------------------------------------------------

    def _announce(self, ns: list[str], interrupts: Any) -> list[Emitted]:
        run = self.current
        if run is not None:
            run.paused = True
        out = []
        for item in interrupts if isinstance(interrupts, list) else []:
            if not isinstance(item, dict) or "id" not in item:
                continue
            if run is not None:
                if item["id"] in run.interrupts:
                    continue
                run.interrupts[item["id"]] = item.get("value")
            value = compact(item.get("value"))
            # `payload` is the protocol's field; langgraph-sdk reads `value`
            data = {"interrupt_id": item["id"], "payload": value, "value": value}
            run_id = run.run_id if run is not None else "thread"
            event_id = f"synth:{run_id}:input|{'|'.join(ns)}|{item['id']}"
            out.append(Emitted("input.requested", ns, data, event_id))
        if run is not None:
            run.held += out
            return []
        return out

    def _values(self, ns: list[str], data: Any) -> list[Emitted]:
        interrupted = isinstance(data, dict) and "__interrupt__" in data
        interrupts = data.pop("__interrupt__") if interrupted else None
        out = [Emitted("values", ns, compact(data))]
        if interrupted and not ns:
            out += self._announce(ns, interrupts)
        return out

    def _updates(self, ns: list[str], data: Any) -> list[Emitted]:
        if not isinstance(data, dict):
            return [Emitted("updates", ns, compact(data))]
        out = []
        for node, update in data.items():
            if node == "__interrupt__":
                if not ns:
                    out += self._announce(ns, update)
                continue
            out.append(Emitted("updates", ns, compact(update), extra={"node": node}))
        return out

    def _messages(self, ns: list[str], data: Any) -> list[Emitted]:
        """Only what chat models streamed: a whole message a node returned (langgraph's v2
        handler passes those too) is in `values`, and the reference sends no stream for it
        (`thread.messages` would yield an empty one, e.g. for a hand-made tool call)."""
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            return []
        payload = data[0]
        if "event" in payload:  # a protocol message event from a chat model
            return [Emitted("messages", ns, payload)]
        return []

    def _tasks(self, ns: list[str], data: Any) -> list[Emitted]:
        run, key = self.current, tuple(ns)
        out = []
        if run is not None and isinstance(data, dict):
            if "result" not in data and key and key not in run.subgraphs:
                name, _, trigger = key[-1].partition(":")
                sub = run.subgraphs[key] = Subgraph(key, name, trigger or None)
                started = {"event": "started", "namespace": ns, "graph_name": name}
                if sub.trigger:
                    started["trigger_call_id"] = sub.trigger
                out.append(Emitted("lifecycle", ns, started))
            elif "result" in data:
                for sub in run.subgraphs.values():
                    if sub.status == "started" and sub.namespace[:-1] == key:
                        if sub.trigger is not None and sub.trigger == data.get("id"):
                            sub.status, error = _task_status(data)
                            out.append(self._lifecycle(run, sub.namespace, sub.status, error, sub))
        out.append(Emitted("tasks", ns, compact(data)))
        return out


def _task_status(result: dict[str, Any]) -> tuple[str, str | None]:
    if result.get("interrupts"):
        return "interrupted", None
    if result.get("error"):
        return "failed", str(result["error"])
    return "completed", None


def compact(value: Any) -> Any:
    """`value` with every serialized LangChain message written as the reference writes it."""
    if isinstance(value, dict):
        if _is_message(value):
            return _compact_message(value)
        return {k: compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def _is_message(d: dict[str, Any]) -> bool:
    return (
        isinstance(d.get("type"), str)
        and "content" in d
        and "additional_kwargs" in d
        and "response_metadata" in d
    )


def _compact_message(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": d["type"], "content": d["content"]}
    if d.get("id") is not None:
        out["id"] = d["id"]
    if d.get("name") is not None:
        out["name"] = d["name"]
    if d.get("tool_calls"):
        out["tool_calls"] = [
            {"type": "tool_call", "name": c.get("name"), "args": c.get("args"), "id": c.get("id")}
            for c in d["tool_calls"]
        ]
    if "tool_call_id" in d:
        out["tool_call_id"] = d["tool_call_id"]
        out["status"] = d.get("status", "success")
        out["artifact"] = d.get("artifact")
    if d.get("response_metadata"):
        out["response_metadata"] = d["response_metadata"]
    return out
