"""A graph whose run announces its interrupt a while before it ends: `ask` interrupts at once
while `slow`, in the same step, still works (tests/api/test_thread_protocol.py)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    messages: Annotated[list, operator.add]


async def _ask(state: State) -> dict:
    return {"messages": [interrupt("what?")]}


async def _slow(state: State) -> dict:
    if "slow" not in state.get("messages", []):
        await asyncio.sleep(1.0)  # the interrupt is streamed while this step still runs
        return {"messages": ["slow"]}
    return {}


_b = StateGraph(State)
_b.add_node("ask", _ask)
_b.add_node("slow", _slow)
_b.add_edge(START, "ask")
_b.add_edge(START, "slow")
slow_hitl = _b.compile()
