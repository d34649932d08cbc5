"""Graphs that misbehave on purpose (tests/api/test_graph_faults.py): the input's `fault` names
what the node does to its server, from a sync node (`fault_sync`, run in a thread) or an async
one (`fault_async`, on the event loop)."""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class FaultState(TypedDict, total=False):
    fault: str
    release: str  # fault "block": the file whose creation ends the node
    done: bool


class Custom(BaseException):
    """A BaseException that is neither Exception nor one Python itself raises."""


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


def _misbehave(state: FaultState) -> dict:
    fault = state.get("fault")
    if fault == "sys_exit":
        sys.exit(3)
    if fault == "keyboard":
        raise KeyboardInterrupt
    if fault == "base":
        raise Custom("a custom BaseException")
    if fault == "recursion":
        _recurse(0)
    if fault == "os_exit":
        os._exit(7)
    if fault == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "block":  # holds its thread until the test creates the file
        while not os.path.exists(state["release"]):
            time.sleep(0.05)
    return {"done": True}


async def _misbehave_async(state: FaultState) -> dict:
    return _misbehave(state)


def _build(node: object) -> object:
    b = StateGraph(FaultState)
    b.add_node("misbehave", node)  # type: ignore[call-overload]
    b.add_edge(START, "misbehave")
    b.add_edge("misbehave", END)
    return b.compile()


fault_sync = _build(_misbehave)
fault_async = _build(_misbehave_async)
