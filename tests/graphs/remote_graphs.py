"""Graphs for the RemoteGraph tests (`langgraph-remote.json`)."""

from __future__ import annotations

import operator
from typing import Annotated

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict


class MsgState(TypedDict, total=False):
    messages: Annotated[list, operator.add]


def _ask(state: MsgState) -> dict:
    return {"messages": [f"answer:{interrupt('inner?')}"]}


_sb = StateGraph(MsgState)
_sb.add_node("ask", _ask)
_sb.add_edge(START, "ask")
_sb.add_edge("ask", END)
_inner = _sb.compile()

# A subgraph that interrupts: the thread's state then has a task whose state is the subgraph's.
_b = StateGraph(MsgState)
_b.add_node("before", lambda state: {"messages": ["before"]})
_b.add_node("inner", _inner)
_b.add_edge(START, "before")
_b.add_edge("before", "inner")
_b.add_edge("inner", END)
nested_hitl = _b.compile()
