"""Test graphs shared by graphport's tests and the reference-capture harness.

Every graph here is loaded both by the reference server (``langgraph dev``) and by
graphport, so they only use public langgraph / langchain_core APIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import uuid
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.ui import push_ui_message, ui_message_reducer
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from typing_extensions import TypedDict

try:  # langgraph-sdk >= 0.4 exposes the server runtime passed to graph factories
    from langgraph_sdk.runtime import ServerRuntime
except ImportError:  # pragma: no cover - older SDKs
    ServerRuntime = None  # type: ignore[assignment,misc]


class MsgState(TypedDict, total=False):
    messages: Annotated[list, operator.add]


# ---------------------------------------------------------------- echo
class EchoState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    count: Annotated[int, operator.add]


def _echo_node(state: EchoState) -> dict:
    return {"messages": ["hi"], "count": 1}


def _make_echo():
    b = StateGraph(EchoState)
    b.add_node("step", _echo_node)
    b.add_edge(START, "step")
    b.add_edge("step", END)
    return b


echo = _make_echo().compile()
# same graph, registered under the id "described" with a description in langgraph.json
echo2 = _make_echo().compile()


# ---------------------------------------------------------------- hitl
def _ask(state: MsgState) -> dict:
    answer = interrupt("what?")
    return {"messages": [answer]}


_b = StateGraph(MsgState)
_b.add_node("ask", _ask)
_b.add_edge(START, "ask")
_b.add_edge("ask", END)
hitl = _b.compile()


# ---------------------------------------------------------------- boom
def _boom(state: MsgState) -> dict:
    raise ValueError("kaboom")


_b = StateGraph(MsgState)
_b.add_node("explode", _boom)
_b.add_edge(START, "explode")
_b.add_edge("explode", END)
boom = _b.compile()


# ---------------------------------------------------------------- sleepy
class SleepyState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    sleep: float


def _nap1(state: SleepyState) -> dict:
    return {"messages": ["start"]}


async def _nap2(state: SleepyState) -> dict:
    await asyncio.sleep(state.get("sleep") or 0)
    return {"messages": ["woke"]}


_b = StateGraph(SleepyState)
_b.add_node("nap1", _nap1)
_b.add_node("nap2", _nap2)
_b.add_edge(START, "nap1")
_b.add_edge("nap1", "nap2")
_b.add_edge("nap2", END)
sleepy = _b.compile()


# ---------------------------------------------------------------- inspect
class InspectContext(TypedDict, total=False):
    user: str
    model: str


class InspectState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    seen: dict


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _inspect(state: InspectState, config: RunnableConfig, runtime: Runtime[InspectContext]) -> dict:
    ctx = runtime.context
    return {
        "messages": ["inspected"],
        "seen": _jsonable(
            {
                "tags": config.get("tags"),
                "recursion_limit": config.get("recursion_limit"),
                "configurable": {
                    k: v
                    for k, v in (config.get("configurable") or {}).items()
                    if not k.startswith("__pregel_")
                },
                "metadata": config.get("metadata"),
                "context": dict(ctx) if isinstance(ctx, dict) else ctx,
            }
        ),
    }


_b = StateGraph(InspectState, context_schema=InspectContext)
_b.add_node("look", _inspect)
_b.add_edge(START, "look")
_b.add_edge("look", END)
inspect = _b.compile()


# ---------------------------------------------------------------- router
class RouterState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    arg: Any


def _a(state: RouterState) -> dict:
    return {"messages": ["a"]}


def _b_node(state: RouterState) -> dict:
    return {"messages": [f"b:{state.get('arg')}"]}


def _c(state: RouterState) -> dict:
    return {"messages": ["c"]}


_b = StateGraph(RouterState)
_b.add_node("a", _a)
_b.add_node("b", _b_node)
_b.add_node("c", _c)
_b.add_edge(START, "a")
_b.add_edge("a", END)
router = _b.compile()


# ---------------------------------------------------------------- loop
def _spin(state: MsgState) -> dict:
    return {"messages": ["spin"]}


_b = StateGraph(MsgState)
_b.add_node("spin", _spin)
_b.add_edge(START, "spin")
_b.add_edge("spin", "spin")
loop = _b.compile()


# ---------------------------------------------------------------- nested
def _child_node(state: MsgState) -> dict:
    get_stream_writer()({"custom": "from-sub"})
    return {"messages": ["sub"]}


_sb = StateGraph(MsgState)
_sb.add_node("child_node", _child_node)
_sb.add_edge(START, "child_node")
_sb.add_edge("child_node", END)
_subgraph = _sb.compile()


def _parent_node(state: MsgState) -> dict:
    get_stream_writer()({"custom": "from-parent"})
    return {"messages": ["parent"]}


_b = StateGraph(MsgState)
_b.add_node("parent_node", _parent_node)
_b.add_node("child", _subgraph)
_b.add_edge(START, "parent_node")
_b.add_edge("parent_node", "child")
_b.add_edge("child", END)
nested = _b.compile()


# ---------------------------------------------------------------- parallel_hitl
def _qa(state: MsgState) -> dict:
    return {"messages": [interrupt("qa")]}


def _qb(state: MsgState) -> dict:
    return {"messages": [interrupt("qb")]}


_b = StateGraph(MsgState)
_b.add_node("qa", _qa)
_b.add_node("qb", _qb)
_b.add_edge(START, "qa")
_b.add_edge(START, "qb")
_b.add_edge("qa", END)
_b.add_edge("qb", END)
parallel_hitl = _b.compile()


# ---------------------------------------------------------------- factories
def _factory_graph(label: str):
    def node(state: MsgState) -> dict:
        return {"messages": [label]}

    b = StateGraph(MsgState)
    b.add_node("make", node)
    b.add_edge(START, "make")
    b.add_edge("make", END)
    return b.compile()


def fcfg(config: RunnableConfig):
    tag = (config.get("configurable") or {}).get("tag")
    return _factory_graph(f"factory-cfg:{tag}")


if ServerRuntime is not None:

    def frt(runtime: ServerRuntime):
        ctx = getattr(runtime, "context", None)
        return _factory_graph(f"factory-rt:{type(runtime).__name__}:{runtime.access_context}:{ctx}")

else:  # pragma: no cover

    def frt(config: RunnableConfig):
        return _factory_graph("factory-rt:unavailable")


@contextlib.asynccontextmanager
async def facm(config: RunnableConfig):
    yield _factory_graph("factory-cm")


# ---------------------------------------------------------------- builder (uncompiled)
builder = StateGraph(MsgState)
builder.add_node("built", lambda state: {"messages": ["built"]})
builder.add_edge(START, "built")
builder.add_edge("built", END)


# ---------------------------------------------------------------- named
_b = StateGraph(MsgState)
_b.add_node("n", lambda state: {"messages": ["named"]})
_b.add_edge(START, "n")
_b.add_edge("n", END)
named = _b.compile(name="MyNamedGraph")


# ---------------------------------------------------------------- chat


def _respond(state: MessagesState) -> dict:
    # a fresh model per call: GenericFakeChatModel consumes its iterator
    model = GenericFakeChatModel(messages=iter([AIMessage(content="hello world")]))
    return {"messages": [model.invoke(state["messages"])]}


_b = StateGraph(MessagesState)
_b.add_node("model", _respond)
_b.add_edge(START, "model")
_b.add_edge("model", END)
chat = _b.compile()


# ---------------------------------------------------------------- blocking (sync sleep)
def _block(state: SleepyState) -> dict:
    import time

    time.sleep(state.get("sleep") or 0)
    return {"messages": ["blocked"]}


_b = StateGraph(SleepyState)
_b.add_node("block", _block)
_b.add_edge(START, "block")
_b.add_edge("block", END)
blocking = _b.compile()


# ---------------------------------------------------------------- memory (uses the store)
def _remember(state: MsgState, runtime: Runtime) -> dict:
    store = runtime.store
    seen = store.get(("graph-memory",), "last")
    store.put(("graph-memory",), "last", {"messages": state.get("messages", [])})
    return {"messages": [f"before:{seen.value['messages'] if seen else None}"]}


_b = StateGraph(MsgState)
_b.add_node("remember", _remember)
_b.add_edge(START, "remember")
_b.add_edge("remember", END)
memory = _b.compile()


# ---------------------------------------------------------------- generative UI
class UiState(MessagesState, total=False):
    ui: Annotated[list, ui_message_reducer]
    show: list[str]  # the components to push (default: greeting)


def _show(state: UiState) -> dict:
    """Replies, then pushes a UI message per name in `show`, the first one attached to the reply
    (metadata.message_id), with props {"who": <the last message's text>}."""
    who = state["messages"][-1].content if state.get("messages") else "world"
    reply = AIMessage(id=f"ai-{uuid.uuid4()}", content=f"Showing {who}")
    for i, name in enumerate(state.get("show") or ["greeting"]):
        push_ui_message(name, {"who": who}, message=reply if i == 0 else None)
    return {"messages": [reply]}


_b = StateGraph(UiState)
_b.add_node("show", _show)
_b.add_edge(START, "show")
_b.add_edge("show", END)
ui_show = _b.compile()
