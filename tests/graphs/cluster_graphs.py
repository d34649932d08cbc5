"""Graphs of the multi-process tests (tests/cluster): a two-step sleeper whose state shows
every step exactly once, a graph that kills the process executing it, and one that writes a
checkpoint every few milliseconds until its limit or its cancellation."""

from __future__ import annotations

import asyncio
import operator
import os
import signal
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class StepState(TypedDict, total=False):
    steps: Annotated[list, operator.add]
    sleep: float
    tag: str


async def _first(state: StepState) -> dict:
    await asyncio.sleep(state.get("sleep") or 0)
    return {"steps": ["first"]}


async def _second(state: StepState) -> dict:
    await asyncio.sleep(state.get("sleep") or 0)
    return {"steps": ["second"]}


_b = StateGraph(StepState)
_b.add_node("first", _first)
_b.add_node("second", _second)
_b.add_edge(START, "first")
_b.add_edge("first", "second")
_b.add_edge("second", END)
steps = _b.compile()


def _die(state: StepState) -> dict:
    os.kill(os.getpid(), signal.SIGKILL)  # the worst a graph can do to its server
    return {}


_b = StateGraph(StepState)
_b.add_node("die", _die)
_b.add_edge(START, "die")
_b.add_edge("die", END)
crash = _b.compile()


class SpinState(TypedDict, total=False):
    n: int
    limit: int


async def _spin(state: SpinState) -> dict:
    await asyncio.sleep(0.005)  # a checkpoint every few milliseconds, until cancelled
    return {"n": (state.get("n") or 0) + 1}


_b = StateGraph(SpinState)
_b.add_node("spin", _spin)
_b.add_edge(START, "spin")
_b.add_conditional_edges(
    "spin", lambda s: END if s.get("n", 0) >= s.get("limit", 0) else "spin", ["spin", END]
)
spin = _b.compile()
