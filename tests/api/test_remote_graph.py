"""RemoteGraph (langgraph.pregel.remote) pointed at the server: invoke, stream in every mode with
subgraphs, get_state (of subgraphs too), and a RemoteGraph used as a node of a local graph."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.pregel.remote import RemoteException, RemoteGraph
from langgraph.types import Command, StateSnapshot
from typing_extensions import TypedDict


class MsgState(TypedDict, total=False):
    messages: Annotated[list, operator.add]


def thread() -> dict[str, Any]:
    """A config naming a new thread (RemoteGraph creates it: `if_not_exists="create"`)."""
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


def is_child(ns: tuple[str, ...], name: str = "child") -> bool:
    return len(ns) == 1 and ns[0].startswith(f"{name}:")


def test_invoke_get_state_and_history(url: str) -> None:
    echo = RemoteGraph("echo", url=url)
    assert echo.invoke({"messages": ["x"]}) == {"messages": ["x", "hi"], "count": 1}

    config = thread()
    assert echo.invoke({"messages": ["a"]}, config) == {"messages": ["a", "hi"], "count": 1}
    echo.invoke({"messages": ["b"]}, config)
    state = echo.get_state(config)
    assert state.values == {"messages": ["a", "hi", "b", "hi"], "count": 2}
    assert state.next == ()
    assert state.config["configurable"]["thread_id"] == config["configurable"]["thread_id"]
    assert state.metadata["step"] == 4
    assert state.parent_config is not None

    history = list(echo.get_state_history(config))
    assert [s.metadata["step"] for s in history] == [4, 3, 2, 1, 0, -1]
    older = echo.get_state(history[2].config)  # a checkpoint of the past, by id
    assert older.values == {"messages": ["a", "hi"], "count": 1}

    updated = echo.update_state(config, {"messages": ["upd"]})
    assert updated["configurable"]["checkpoint_id"] != state.config["configurable"]["checkpoint_id"]
    assert echo.get_state(config).values["messages"][-1] == "upd"


def test_invoke_raises_the_remote_error(url: str) -> None:
    with pytest.raises(RemoteException) as info:
        RemoteGraph("boom", url=url).invoke({"messages": ["x"]})
    assert info.value.args[0] == {"error": "ValueError", "message": "kaboom"}


def test_stream_values_updates_custom_with_subgraphs(url: str) -> None:
    nested = RemoteGraph("nested", url=url)
    values = list(
        nested.stream({"messages": ["x"]}, thread(), stream_mode="values", subgraphs=True)
    )
    assert [data for ns, data in values if ns == ()] == [
        {"messages": ["x"]},
        {"messages": ["x", "parent"]},
        {"messages": ["x", "parent", "x", "parent", "sub"]},
    ]
    assert [data for ns, data in values if is_child(ns)] == [
        {"messages": ["x", "parent"]},
        {"messages": ["x", "parent", "sub"]},
    ]

    updates = list(
        nested.stream({"messages": ["x"]}, thread(), stream_mode="updates", subgraphs=True)
    )
    assert [(ns == (), data) for ns, data in updates] == [
        (True, {"parent_node": {"messages": ["parent"]}}),
        (False, {"child_node": {"messages": ["sub"]}}),
        (True, {"child": {"messages": ["x", "parent", "sub"]}}),
    ]
    assert is_child(updates[1][0])

    custom = list(
        nested.stream({"messages": ["x"]}, thread(), stream_mode="custom", subgraphs=True)
    )
    assert [data for _, data in custom] == [{"custom": "from-parent"}, {"custom": "from-sub"}]
    assert custom[0][0] == () and is_child(custom[1][0])

    # without subgraphs=True only the root's chunks
    assert list(nested.stream({"messages": ["x"]}, stream_mode="custom")) == [
        {"custom": "from-parent"}
    ]


def test_stream_tasks_checkpoints_debug_with_subgraphs(url: str) -> None:
    nested = RemoteGraph("nested", url=url)
    chunks = list(
        nested.stream(
            {"messages": ["x"]},
            thread(),
            stream_mode=["tasks", "checkpoints", "debug"],
            subgraphs=True,
        )
    )
    by_mode: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    for ns, mode, data in chunks:
        by_mode.setdefault(mode, []).append((ns, data))
    assert set(by_mode) == {"tasks", "checkpoints", "debug"}

    root_tasks = [d["name"] for ns, d in by_mode["tasks"] if ns == () and "input" in d]
    assert root_tasks == ["parent_node", "child"]
    child_tasks = [d["name"] for ns, d in by_mode["tasks"] if is_child(ns) and "input" in d]
    assert child_tasks == ["child_node"]
    results = {d["name"]: d["result"] for ns, d in by_mode["tasks"] if "result" in d}
    assert results["child_node"] == {"messages": ["sub"]}

    root_checkpoints = [d for ns, d in by_mode["checkpoints"] if ns == ()]
    assert root_checkpoints[-1]["values"] == {"messages": ["x", "parent", "x", "parent", "sub"]}
    assert any(is_child(ns) for ns, _ in by_mode["checkpoints"])

    debug_types = {(ns == (), d["type"]) for ns, d in by_mode["debug"]}
    assert {(True, "task"), (True, "task_result"), (False, "task")} <= debug_types


def test_stream_messages(url: str) -> None:
    chat = RemoteGraph("chat", url=url)
    question = {"messages": [{"role": "user", "content": "hi"}]}
    for mode in ("messages", "messages-tuple"):
        config = thread()
        chunks = list(chat.stream(question, config, stream_mode=mode, subgraphs=True))
        ai = [(ns, msg, meta) for ns, (msg, meta) in chunks if msg["type"].startswith("AI")]
        assert ai, chunks
        assert "".join(msg["content"] for _, msg, _ in ai) == "hello world"
        assert {ns for ns, _, _ in ai} == {()}
        assert ai[0][2]["langgraph_node"] == "model"
        # a thread whose state holds messages keeps them
        messages = chat.get_state(config).values["messages"]
        assert [(m["type"], m["content"]) for m in messages] == [
            ("human", "hi"),
            ("ai", "hello world"),
        ]


def test_stream_several_modes_at_once(url: str) -> None:
    nested = RemoteGraph("nested", url=url)
    chunks = list(
        nested.stream({"messages": ["x"]}, thread(), stream_mode=["values", "updates", "custom"])
    )
    modes = [chunk.event for chunk in chunks]
    assert set(modes) == {"values", "updates", "custom"}
    assert chunks[-1].event == "values"
    assert chunks[-1].data == {"messages": ["x", "parent", "x", "parent", "sub"]}


def test_get_state_of_an_interrupted_subgraph_and_resume(url: str) -> None:
    remote = RemoteGraph("nested_hitl", url=url)
    config = thread()
    out = remote.invoke({"messages": ["x"]}, config)
    assert out["messages"] == ["x", "before"]
    assert [i["value"] for i in out["__interrupt__"]] == ["inner?"]

    state = remote.get_state(config)
    assert state.next == ("inner",)
    assert [i.value for i in state.interrupts] == ["inner?"]
    (task,) = state.tasks
    # not read with subgraphs: the task says where the subgraph's state is
    assert task.state is not None and not isinstance(task.state, StateSnapshot)
    assert task.state["configurable"]["checkpoint_ns"].startswith("inner:")
    sub = remote.get_state(task.state)
    assert sub.values == {"messages": ["x", "before"]} and sub.next == ("ask",)

    with_subgraphs = remote.get_state(config, subgraphs=True)
    sub_state = with_subgraphs.tasks[0].state
    assert isinstance(sub_state, StateSnapshot)
    assert sub_state.values == {"messages": ["x", "before"]} and sub_state.next == ("ask",)
    sub_config = sub_state.config["configurable"]
    assert sub_config["checkpoint_ns"].startswith("inner:")
    assert sub_config["checkpoint_map"][sub_config["checkpoint_ns"]] == sub_config["checkpoint_id"]
    assert remote.get_state(sub_state.config).values == sub_state.values
    assert next(iter(remote.get_state_history(sub_state.config))).values == sub_state.values

    done = remote.invoke(Command(resume="yes"), config)
    assert done["messages"][-1] == "answer:yes"
    assert remote.get_state(config).next == ()


def _local_graph(remote: RemoteGraph, **compile_kwargs: Any) -> Any:
    builder = StateGraph(MsgState)
    builder.add_node("remote", remote)
    builder.add_node("after", lambda state: {"messages": ["local"]})
    builder.add_edge(START, "remote")
    builder.add_edge("remote", "after")
    builder.add_edge("after", END)
    return builder.compile(**compile_kwargs)


def test_remote_graph_as_a_node(url: str) -> None:
    graph = _local_graph(RemoteGraph("nested", url=url))
    out = graph.invoke({"messages": ["x"]})
    # the remote graph returns its whole state, which the local reducer appends
    assert out["messages"] == ["x", "x", "parent", "x", "parent", "sub", "local"]

    chunks = list(
        graph.stream({"messages": ["x"]}, stream_mode=["updates", "custom"], subgraphs=True)
    )
    remote_ns = {ns[0] for ns, _, _ in chunks if ns}
    assert len(remote_ns) == 1 and next(iter(remote_ns)).startswith("remote:")
    custom = [(ns, data) for ns, mode, data in chunks if mode == "custom"]
    assert [data for _, data in custom] == [{"custom": "from-parent"}, {"custom": "from-sub"}]
    assert len(custom[0][0]) == 1  # ("remote:<id>",)
    assert len(custom[1][0]) == 2 and custom[1][0][1].startswith("child:")
    root_updates = [data for ns, mode, data in chunks if mode == "updates" and ns == ()]
    assert root_updates[-1] == {"after": {"messages": ["local"]}}


def test_remote_interrupt_reaches_the_local_graph(url: str) -> None:
    graph = _local_graph(RemoteGraph("nested_hitl", url=url), checkpointer=InMemorySaver())
    config = thread()
    out = graph.invoke({"messages": ["l"]}, config)
    assert [i.value for i in out["__interrupt__"]] == ["inner?"]
    local = graph.get_state(config)
    assert local.next == ("remote",)
    # the remote thread has the parent's thread id
    assert RemoteGraph("nested_hitl", url=url).get_state(config).next == ("inner",)


async def test_async_invoke_stream_and_state(url: str) -> None:
    nested = RemoteGraph("nested", url=url)
    config = thread()
    out = await nested.ainvoke({"messages": ["x"]}, config)
    assert out == {"messages": ["x", "parent", "x", "parent", "sub"]}
    state = await nested.aget_state(config)
    assert state.values == out
    chunks = [
        c
        async for c in nested.astream(
            {"messages": ["y"]}, stream_mode=["values", "custom"], subgraphs=True
        )
    ]
    assert ((), "custom", {"custom": "from-parent"}) in chunks
    assert any(is_child(ns) and mode == "custom" for ns, mode, _ in chunks)
    graph = _local_graph(nested)
    assert (await graph.ainvoke({"messages": ["z"]}))["messages"][-1] == "local"
