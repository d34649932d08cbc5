"""The thread event protocol's pieces: subscription filters, the numbered log, the translator."""

from __future__ import annotations

import orjson
import pytest

from graphport.engine.protocol_events import RUN_ENDED, Translator, compact
from graphport.engine.protocol_log import (
    Filter,
    Listener,
    SubscriptionError,
    ThreadLog,
    parse_subscription,
)


def test_filters_match_channels_namespaces_and_depth() -> None:
    """A prefix without a task id matches by node name; depth counts levels below it."""
    flt, since = parse_subscription(
        {"channels": ["values", "custom"], "namespaces": [["child"]], "depth": 0, "since": 3}
    )
    assert since == 3
    assert flt.matches("values", ("child:1",))
    assert flt.matches("custom:progress", ("child:1",))  # `custom` takes every named one
    assert not flt.matches("values", ("child:1", "inner:2"))
    assert not flt.matches("values", ())
    assert not flt.matches("updates", ("child:1",))
    named = Filter(frozenset({"custom:progress"}))
    assert named.matches("custom:progress", ()) and not named.matches("custom", ())
    with pytest.raises(SubscriptionError) as bad:
        parse_subscription({"channels": ["values", "custom:", "nope"]})
    assert bad.value.bad == ["custom:", "nope"]


def test_log_replays_after_since_then_goes_live() -> None:
    """Nothing falls between a subscription's replay and its live events, nothing twice."""
    log = ThreadLog(max_events=3)
    for i in range(4):
        log.append("values", [], {"i": i})
    assert log.first_seq == 2  # the oldest was dropped
    listener = Listener()
    _, replayed = log.subscribe(listener, Filter(frozenset({"values"})), since=2)
    log.append("values", [], {"i": 4})
    log.append("updates", [], {"i": 5}, extra={"node": "n"})
    seqs = [listener.queue.get_nowait().seq for _ in range(listener.queue.qsize())]
    assert (replayed, seqs) == (2, [3, 4, 5])


def _feed(tr: Translator, event: str, data: object) -> list[tuple[str, object]]:
    return [(e.method, e.data) for e in tr.feed(event, orjson.dumps(data))]


def test_runs_end_with_a_terminal_lifecycle_event() -> None:
    tr = Translator()
    tr.track("r1", "g")
    assert _feed(tr, "metadata", {"run_id": "r1", "attempt": 1}) == [
        ("lifecycle", {"event": "running", "graph_name": "g"})
    ]
    # an interrupt is announced with the run's end, once that is stored (the thread then
    # reads `interrupted`)
    assert _feed(tr, "updates", {"__interrupt__": [{"value": "why?", "id": "i1"}]}) == []
    assert _feed(tr, "metadata", {"status": "run_done", "run_id": "r1"}) == [
        ("input.requested", {"interrupt_id": "i1", "payload": "why?", "value": "why?"}),
        ("lifecycle", {"event": "interrupted", "graph_name": "g"}),
    ]
    # cancelled before its first step: its error comes before the end, with no start
    tr.track("r2", "g")
    _feed(tr, "error", {"error": "UserInterrupt", "message": "Run was cancelled (interrupt)"})
    assert _feed(tr, "metadata", {"status": "run_done", "run_id": "r2"}) == [
        ("lifecycle", {"event": "failed", "graph_name": "g",
                       "error": "Run was cancelled (interrupt)"})]  # fmt: skip
    # cancelled while pending: only the end of the run says so
    tr.track("r3", "g")
    body = {"__error__": {"error": "UserInterrupt", "message": "Run was cancelled"}}
    assert _feed(tr, RUN_ENDED, {"run_id": "r3", "body": body}) == [
        ("lifecycle", {"event": "failed", "graph_name": "g", "error": "Run was cancelled"})
    ]
    assert _feed(tr, RUN_ENDED, {"run_id": "r1", "body": {}}) == []  # already ended


def test_messages_are_written_compactly() -> None:
    full = {"content": "x", "additional_kwargs": {}, "response_metadata": {}, "type": "tool",
            "name": None, "id": "t", "tool_call_id": "c", "artifact": None,
            "status": "success"}  # fmt: skip
    assert compact({"messages": [full]}) == {"messages": [
        {"type": "tool", "content": "x", "id": "t", "tool_call_id": "c", "status": "success",
         "artifact": None}]}  # fmt: skip


def test_only_streamed_messages_are_sent() -> None:
    """A chat model's protocol events pass; a whole message a node returned (langgraph's v2
    handler emits those too) does not, as on the reference: `thread.messages` would yield an
    empty stream for it."""
    tr = Translator()
    tr.track("r1", "g")
    _feed(tr, "metadata", {"run_id": "r1", "attempt": 1})
    start = {"event": "message-start", "role": "ai", "id": "m1"}
    assert _feed(tr, "messages", [start, {"langgraph_node": "n"}]) == [("messages", start)]
    whole = {"type": "ai", "content": "", "id": "m2",
             "tool_calls": [{"id": "t", "name": "search", "args": {}}]}  # fmt: skip
    assert _feed(tr, "messages", [whole, {"langgraph_node": "n"}]) == []
