"""A LangGraph Studio / Agent Chat UI style session, scripted through the async SDK."""

from __future__ import annotations

from langgraph_sdk import get_client


async def test_studio_style_session(url: str) -> None:
    client = get_client(url=url)
    # Studio's first screen: the graph, its schemas, the thread list
    assistant = (await client.assistants.search(graph_id="hitl", limit=10))[0]
    graph = await client.assistants.get_graph(assistant["assistant_id"])
    assert {n["id"] for n in graph["nodes"]} >= {"__start__", "ask", "__end__"}
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])
    assert "messages" in schemas["input_schema"]["properties"]
    thread = await client.threads.create(metadata={"source": "studio"})
    tid = thread["thread_id"]
    assert tid in [t["thread_id"] for t in await client.threads.search(limit=50)]

    # send a message, stream values + messages, hit the interrupt
    seen: list[str] = []
    async for part in client.runs.stream(
        tid,
        assistant["assistant_id"],
        input={"messages": ["hello"]},
        stream_mode=["messages-tuple", "values", "updates"],
        stream_subgraphs=True,
    ):
        seen.append(part.event)
    assert seen[0] == "metadata" and "values" in seen
    state = await client.threads.get_state(tid)
    assert state["next"] == ["ask"] and state["tasks"][0]["interrupts"][0]["value"] == "what?"
    assert (await client.threads.get(tid))["status"] == "interrupted"

    # answer the interrupt
    final = None
    async for part in client.runs.stream(
        tid, assistant["assistant_id"], command={"resume": "fine"}, stream_mode="values"
    ):
        if part.event == "values":
            final = part.data
    assert final == {"messages": ["hello", "fine"]}

    # fork: edit an earlier checkpoint and run from it
    history = await client.threads.get_history(tid, limit=10)
    at_interrupt = next(h for h in history if h["next"] == ["ask"])
    forked = await client.threads.update_state(
        tid, {"messages": ["edited"]}, checkpoint_id=at_interrupt["checkpoint_id"]
    )
    branch = await client.runs.wait(
        tid,
        assistant["assistant_id"],
        command={"resume": "branch"},
        checkpoint=forked["checkpoint"],
    )
    assert branch["messages"] == ["hello", "edited", "branch"]
    runs = await client.runs.list(tid)
    assert len(runs) == 3 and all(r["status"] == "success" for r in runs)
