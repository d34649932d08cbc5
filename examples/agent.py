"""An example graph: greets, counts, and asks a question when told to."""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    messages: Annotated[list[str], operator.add]
    ask: bool


def greet(state: State) -> State:
    return {"messages": [f"hello, {state['messages'][-1] if state.get('messages') else 'world'}"]}


def maybe_ask(state: State) -> State:
    if state.get("ask"):
        return {"messages": [interrupt("What should I say next?")]}
    return {}


builder = StateGraph(State)
builder.add_node("greet", greet)
builder.add_node("maybe_ask", maybe_ask)
builder.add_edge(START, "greet")
builder.add_edge("greet", "maybe_ask")
builder.add_edge("maybe_ask", END)
graph = builder.compile()
