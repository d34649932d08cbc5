"""Graphs for the store tests (`langgraph-store.json`): they read and write the server's store
through `runtime.store`, with the semantic index of the config."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict


class RecallState(TypedDict, total=False):
    namespace: list[str]
    remember: dict[str, str]  # key -> text, put before searching
    query: str
    found: list[dict[str, Any]]  # {"key", "text", "score"} best first


async def _recall(state: RecallState, runtime: Runtime) -> dict:
    store = runtime.store
    assert store is not None
    namespace = tuple(state.get("namespace") or ["recall"])
    for key, text in (state.get("remember") or {}).items():
        await store.aput(namespace, key, {"text": text})
    found = []
    if state.get("query"):
        hits = await store.asearch(namespace, query=state["query"], limit=3)
        found = [{"key": h.key, "text": h.value["text"], "score": h.score} for h in hits]
    return {"found": found}


_b = StateGraph(RecallState)
_b.add_node("recall", _recall)
_b.add_edge(START, "recall")
_b.add_edge("recall", END)
recall = _b.compile()
