"""The v2 thread event protocol: `/threads/{tid}/commands` and `/threads/{tid}/stream/events`
over SSE and WebSocket, driven by langgraph-sdk's `client.threads.stream` and by raw requests.

Frames were captured from the reference (langgraph-api 0.16.7); tests marked `graphport_only`
pin what graphport does better (channels the reference leaves empty, terminal events for
cancelled runs, `agent.getTree` over HTTP, body validation).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from websockets.asyncio.client import connect

from tests.conftest import ROOT, Server, start_server

TRANSPORTS = ["sse", "websocket"]
ALL = ["values", "updates", "messages", "tools", "custom", "lifecycle", "input", "tasks"]
WAIT = 60  # seconds: a bound on every wait, never an assertion


def _new_thread() -> str:
    return str(uuid.uuid4())


async def _command(c: httpx.AsyncClient, tid: str, method: str, **params: Any) -> dict[str, Any]:
    r = await c.post(f"/threads/{tid}/commands", json={"id": 1, "method": method,
                                                       "params": params})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _events(
    c: httpx.AsyncClient, tid: str, body: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """The thread's SSE events: {"event", "id", "data"} with the data parsed."""
    async with c.stream("POST", f"/threads/{tid}/stream/events", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        event: dict[str, Any] = {}
        async for line in r.aiter_lines():
            if not line:
                if event:
                    yield event
                event = {}
            elif line.startswith("event: "):
                event["event"] = line[7:]
            elif line.startswith("id: "):
                event["id"] = line[4:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])


async def _read_until(
    c: httpx.AsyncClient,
    tid: str,
    body: dict[str, Any],
    stop: Callable[[dict[str, Any]], bool],
    *,
    count: int | None = None,
) -> list[dict[str, Any]]:
    """Events until `stop(data)` holds (or `count` events), then the connection is dropped."""

    async def read() -> list[dict[str, Any]]:
        out = []
        async for ev in _events(c, tid, body):
            out.append(ev)
            if stop(ev["data"]) or len(out) == count:
                return out
        return out

    return await asyncio.wait_for(read(), WAIT)


def _root_end(data: dict[str, Any]) -> bool:
    params = data["params"]
    return (
        data["method"] == "lifecycle"
        and params["namespace"] == []
        and params["data"]["event"] in ("completed", "failed")
    )


async def _collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


# -- through langgraph-sdk ---------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_sdk_values_and_output(url: str, transport: str) -> None:
    client = get_client(url=url)
    async with client.threads.stream(assistant_id="echo", transport=transport) as thread:
        started = await thread.run.start(input={"messages": ["x"]})
        assert uuid.UUID(started["run_id"])
        snapshots = await asyncio.wait_for(_collect(thread.values), WAIT)
        final = {"messages": ["x", "hi"], "count": 1}
        assert snapshots[-1] == final
        assert await asyncio.wait_for(thread.output, WAIT) == final
    # the thread id was minted by the client; run.start created the thread
    thread_row = await client.threads.get(thread.thread_id)
    assert thread_row["metadata"]["graph_id"] == "echo"
    assert thread_row["values"] == final


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_sdk_messages_token_by_token(url: str, transport: str) -> None:
    client = get_client(url=url)
    async with client.threads.stream(assistant_id="chat", transport=transport) as thread:
        await thread.run.start(input={"messages": [{"role": "user", "content": "hey"}]})
        texts = []

        async def read() -> None:
            # a message's deltas are fed while `thread.messages` is iterated: read them aside
            async for message in thread.messages:
                texts.append(asyncio.create_task(_collect(message.text)))

        await asyncio.wait_for(read(), WAIT)
        assert [await asyncio.wait_for(t, WAIT) for t in texts] == [["hello", " ", "world"]]
        output = await asyncio.wait_for(thread.output, WAIT)
    answer = output["messages"][-1]
    assert answer["type"] == "ai"
    assert answer["content"] == [{"type": "text", "text": "hello world", "index": 0}]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_sdk_interrupt_answered_with_input_respond(url: str, transport: str) -> None:
    client = get_client(url=url)
    async with client.threads.stream(assistant_id="hitl", transport=transport) as thread:
        await thread.run.start(input={"messages": ["q"]})
        for _ in range(WAIT * 20):  # the lifecycle watcher sees `input.requested`
            if thread.interrupted:
                break
            await asyncio.sleep(0.05)
        assert thread.interrupted and len(thread.interrupts) == 1
        assert thread.interrupts[0]["namespace"] == []
        iid = thread.interrupts[0]["interrupt_id"]
        await thread.run.respond("answer")
        assert await asyncio.wait_for(thread.output, WAIT) == {"messages": ["q", "answer"]}
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        for answer in (iid, "nope"):
            again = await _command(c, thread.thread_id, "input.respond", interrupt_id=answer)
            assert again["error"] == "no_such_interrupt"
            assert again["message"] == f"Unknown or already-consumed interrupt: {answer}"


async def test_sdk_subgraphs_and_namespaces(url: str) -> None:
    client = get_client(url=url)
    async with client.threads.stream(assistant_id="nested") as thread:
        await thread.run.start(input={"messages": ["x"]})
        (child,) = await asyncio.wait_for(_collect(thread.subgraphs), WAIT)
        assert child.graph_name == "child"
        assert child.path == (f"child:{child.trigger_call_id}",)
        assert (await asyncio.wait_for(thread.output, WAIT))["messages"][-1] == "sub"
    # a new session on the thread replays it; a namespace prefix without the task id
    # selects the subgraph's events
    async with client.threads.stream(thread.thread_id, assistant_id="nested") as again:
        inner = again.subscribe(["values"], namespaces=[["child"]])
        values = await asyncio.wait_for(_collect(inner), WAIT)
    assert values and all(v["params"]["namespace"] == list(child.path) for v in values)
    assert values[-1]["params"]["data"] == {"messages": ["x", "parent", "sub"]}


# -- raw frames ----------------------------------------------------------------------------------


async def test_sse_frames(url: str) -> None:
    tid = _new_thread()
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        # a stream may be opened before run.start creates the thread
        reader = asyncio.create_task(_read_until(c, tid, {"channels": ALL}, _root_end))
        await asyncio.sleep(0.2)
        started = await _command(c, tid, "run.start", assistant_id="echo",
                                 input={"messages": ["x"]})  # fmt: skip
        assert started["type"] == "success" and started["id"] == 1
        assert started["meta"] == {"applied_through_seq": 0}
        run_id = started["result"]["run_id"]
        events = await reader
    seqs = [ev["data"]["seq"] for ev in events]
    assert seqs == sorted(set(seqs)) and [ev["id"] for ev in events] == [str(s) for s in seqs]
    for ev in events:
        data = ev["data"]
        assert ev["event"] == data["method"] and data["type"] == "event"
        assert set(data["params"]) >= {"namespace", "timestamp", "data"}
    lifecycle = [ev["data"] for ev in events if ev["event"] == "lifecycle"]
    assert [d["params"]["data"] for d in lifecycle] == [
        {"event": "running", "graph_name": "echo"},
        {"event": "completed", "graph_name": "echo"},
    ]
    assert [d["event_id"] for d in lifecycle] == [
        f"synth:{run_id}:lc||running",
        f"synth:{run_id}:lc||completed",
    ]
    values = [ev["data"]["params"] for ev in events if ev["event"] == "values"]
    assert values[0]["namespace"] == [] and values[0]["data"] == {"messages": ["x"], "count": 0}
    assert values[-1]["data"] == {"messages": ["x", "hi"], "count": 1}


async def test_message_frames_and_compact_messages(url: str) -> None:
    tid = _new_thread()
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        await _command(c, tid, "run.start", assistant_id="chat",
                       input={"messages": [{"role": "user", "content": "hey"}]})  # fmt: skip
        events = await _read_until(c, tid, {"channels": ["messages", "values", "lifecycle"]},
                                   _root_end)  # fmt: skip
    parts = [ev["data"]["params"]["data"] for ev in events if ev["event"] == "messages"]
    assert [p["event"] for p in parts] == [
        "message-start", "content-block-start", "content-block-delta", "content-block-delta",
        "content-block-delta", "content-block-finish", "message-finish",
    ]  # fmt: skip
    assert parts[0]["role"] == "ai" and parts[0]["id"].startswith("lc_run--")
    deltas = [p["delta"] for p in parts if p["event"] == "content-block-delta"]
    assert deltas == [{"type": "text-delta", "text": t} for t in ("hello", " ", "world")]
    final = [ev for ev in events if ev["event"] == "values"][-1]["data"]["params"]["data"]
    human, ai = final["messages"]
    assert human == {"type": "human", "content": "hey", "id": human["id"]}
    assert ai == {
        "type": "ai",
        "content": [{"type": "text", "text": "hello world", "index": 0}],
        "id": parts[0]["id"],
        "response_metadata": {"output_version": "v1"},
    }


async def test_reconnect_with_since_has_no_gap_or_duplicate(url: str) -> None:
    tid = _new_thread()
    body = {"channels": ["values", "lifecycle", "updates"]}
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        await _command(c, tid, "run.start", assistant_id="sleepy",
                       input={"messages": [], "sleep": 0.5})  # fmt: skip
        first = await _read_until(c, tid, body, _root_end, count=2)  # then the client drops
        since = first[-1]["data"]["seq"]
        rest = await _read_until(c, tid, {**body, "since": since}, _root_end)
        full = await _read_until(c, tid, body, _root_end)  # no `since`: everything kept

    def key(ev: dict[str, Any]) -> tuple[int, str, str]:
        return ev["data"]["seq"], ev["data"]["event_id"], ev["data"]["method"]

    assert rest[0]["data"]["seq"] > since
    assert [key(ev) for ev in first + rest] == [key(ev) for ev in full]
    ids = [ev["data"]["event_id"] for ev in full]
    assert len(ids) == len(set(ids))
    assert full[-1]["data"]["params"]["data"]["event"] == "completed"


async def test_runs_started_elsewhere_are_on_the_thread_stream(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        tid = (await c.post("/threads", json={})).json()["thread_id"]
        reader = asyncio.create_task(
            _read_until(c, tid, {"channels": ["lifecycle", "updates"]}, _root_end)
        )
        await asyncio.sleep(0.3)
        body = {"assistant_id": "echo", "input": {"messages": ["a"]}, "stream_mode": ["updates"]}
        r = await c.post(f"/threads/{tid}/runs/wait", json=body)
        assert r.json() == {"messages": ["a", "hi"], "count": 1}
        events = await reader
    updates = [ev["data"]["params"] for ev in events if ev["event"] == "updates"]
    assert updates[0]["data"] == {"messages": ["hi"], "count": 1}
    assert updates[0]["node"] == "step"
    assert events[0]["data"]["params"]["data"] == {"event": "running", "graph_name": "echo"}


async def test_command_errors(url: str) -> None:
    tid = _new_thread()
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        cmd = f"/threads/{tid}/commands"
        malformed = "Protocol commands must include an integer id and string method."
        r = await c.post(cmd, json={"method": "run.start"})
        assert r.status_code == 400
        assert r.json() == {"type": "error", "id": None, "error": "invalid_argument",
                            "message": malformed}  # fmt: skip
        r = await c.post(cmd, json={"id": "7", "method": "x"})
        assert r.status_code == 400 and r.json()["id"] == "7"
        r = await c.post(cmd, content=b"not json")
        assert (r.status_code, r.json()) == (400, {"detail": "Invalid JSON body"})
        r = await c.post(cmd, json={"id": 2, "method": "nope", "params": {}})
        assert (r.status_code, r.json()) == (200, {
            "type": "error", "id": 2, "error": "unknown_command",
            "message": "Unknown protocol command: nope"})  # fmt: skip
        assert await _command(c, tid, "run.start") == {
            "type": "error", "id": 1, "error": "invalid_argument",
            "message": "run.start requires an assistant_id."}  # fmt: skip
        unknown = await _command(c, tid, "run.start", assistant_id="nope")
        assert unknown["error"] == "unknown_error"
        assert unknown["message"].startswith("422: Invalid assistant: 'nope'.")
        assert await _command(c, tid, "input.respond") == {
            "type": "error", "id": 1, "error": "invalid_argument",
            "message": "input.respond requires an interrupt_id."}  # fmt: skip
        assert await _command(c, tid, "input.respond", interrupt_id="nope") == {
            "type": "error", "id": 1, "error": "no_such_run",
            "message": "No interrupted run is bound to this thread."}  # fmt: skip
        assert await _command(c, tid, "agent.getTree") == {
            "type": "error", "id": 1, "error": "no_such_run",
            "message": "No active run is bound to this thread."}  # fmt: skip
        assert await _command(c, tid, "subscription.unsubscribe", subscription_id="x") == {
            "type": "error", "id": 1, "error": "no_such_subscription",
            "message": "Unknown subscription: x"}  # fmt: skip
        sub = await _command(c, tid, "subscription.subscribe", channels=["values"])
        assert sub["type"] == "success" and sub["result"]["replayed_events"] == 0

        stream = f"/threads/{tid}/stream/events"
        allowed = ("values, updates, messages, tools, custom, lifecycle, input, tasks, "
                   "or any `custom:<name>`.")  # fmt: skip
        r = await c.post(stream, json={"channels": ["bogus", "values", "custom:"]})
        assert (r.status_code, r.json()) == (400, {
            "detail": f"channels contains unsupported entries: bogus, custom:. Allowed: {allowed}"
        })  # fmt: skip
        for body in ({}, {"channels": []}, {"channels": "values"}):
            r = await c.post(stream, json=body)
            assert (r.status_code, r.json()) == (
                400, {"detail": "channels is required and must be a non-empty array"})  # fmt: skip
        r = await c.post(stream, content=b"{")
        assert (r.status_code, r.json()) == (400, {"detail": "Invalid JSON body"})


async def test_websocket_commands_and_subscriptions(url: str) -> None:
    tid = _new_thread()
    ws_url = url.replace("http://", "ws://") + f"/threads/{tid}/stream/events"
    async with connect(ws_url) as ws:

        async def send(payload: Any) -> None:
            await ws.send(payload if isinstance(payload, str) else json.dumps(payload))

        async def receive_until(stop: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            while not out or not stop(out[-1]):
                out.append(json.loads(await asyncio.wait_for(ws.recv(), WAIT)))
            return out

        def reply(n: int | None) -> Callable[[dict[str, Any]], bool]:
            return lambda m: m.get("type") != "event" and m.get("id") == n

        await send({"id": 1, "method": "subscription.subscribe",
                    "params": {"channels": ["values", "lifecycle", "input"]}})  # fmt: skip
        subscribed = (await receive_until(reply(1)))[-1]
        assert subscribed["type"] == "success"
        assert set(subscribed["result"]) == {"subscription_id", "replayed_events"}
        await send({"id": 2, "method": "run.start",
                    "params": {"assistant_id": "echo", "input": {"messages": ["w"]}}})  # fmt: skip
        got = await receive_until(lambda m: m.get("type") == "event" and _root_end(m))
        started = next(m for m in got if m.get("id") == 2 and m["type"] == "success")
        assert uuid.UUID(started["result"]["run_id"])
        events = [m for m in got if m.get("type") == "event"]
        assert {m["method"] for m in events} == {"lifecycle", "values"}
        assert events[-2]["params"]["data"] == {"messages": ["w", "hi"], "count": 1}

        await send({"id": 3, "method": "subscription.unsubscribe",
                    "params": {"subscription_id": "nope"}})  # fmt: skip
        missing = (await receive_until(reply(3)))[-1]
        assert (missing["error"], missing["message"]) == (
            "no_such_subscription", "Unknown subscription: nope")  # fmt: skip
        await send({"id": 4, "method": "subscription.subscribe",
                    "params": {"channels": ["bogus"]}})  # fmt: skip
        bogus = (await receive_until(reply(4)))[-1]
        assert bogus["error"] == "invalid_argument"
        assert bogus["message"] == "subscription.subscribe received an unsupported channel."
        await send({"id": 5, "method": "nope"})
        assert (await receive_until(reply(5)))[-1]["error"] == "unknown_command"
        await send("not json")
        bad = (await receive_until(reply(None)))[-1]
        assert bad == {"type": "error", "id": None, "error": "invalid_argument",
                       "message": "Protocol commands must be valid JSON."}  # fmt: skip


# -- graphport's improvements --------------------------------------------------------------------


async def test_cancelled_runs_end_their_stream(url: str, graphport_only: None) -> None:
    """A cancelled run, and one cancelled before it started, each get a terminal event (the
    reference sends `interrupted`, which no client treats as an end, or nothing at all)."""
    client = get_client(url=url)
    async with client.threads.stream(assistant_id="sleepy") as thread:
        running = await thread.run.start(input={"messages": [], "sleep": 300})
        queued = await thread.run.start(input={"messages": [], "sleep": 0})
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
            body = {"channels": ["lifecycle"]}
            await _read_until(c, thread.thread_id, body,
                              lambda d: d["params"]["data"]["event"] == "running")  # fmt: skip
            await client.runs.cancel(thread.thread_id, queued["run_id"])
            await client.runs.cancel(thread.thread_id, running["run_id"])
            with pytest.raises(RuntimeError, match="Run errored: Run was cancelled"):
                await asyncio.wait_for(thread.output, WAIT)
            ends: list[dict[str, Any]] = []

            def both_failed(data: dict[str, Any]) -> bool:
                if data["params"]["data"]["event"] == "failed":
                    ends.append(data)
                return len(ends) == 2

            await _read_until(c, thread.thread_id, body, both_failed)
    failed = {d["event_id"].split(":")[1]: d["params"]["data"] for d in ends}
    assert set(failed) == {running["run_id"], queued["run_id"]}
    assert failed[queued["run_id"]] == {"event": "failed", "graph_name": "sleepy",
                                        "error": "Run was cancelled"}  # fmt: skip
    assert failed[running["run_id"]]["error"].startswith("Run was cancelled")


async def test_every_channel_and_the_tree(url: str, graphport_only: None) -> None:
    """updates, custom, tasks and subgraph lifecycle; `agent.getTree` over HTTP; `value` on
    `input.requested` (langgraph-sdk reads it; the reference sends only `payload`)."""
    tid = _new_thread()
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        started = await _command(c, tid, "run.start", assistant_id="nested",
                                 input={"messages": ["x"]})  # fmt: skip
        events = await _read_until(c, tid, {"channels": ALL}, _root_end)
        named = await _read_until(c, tid, {"channels": ["custom:other", "lifecycle"]}, _root_end)
        tree = await _command(c, tid, "agent.getTree")
        own = await _command(c, tid, "agent.getTree", run_id=started["result"]["run_id"])

        hitl = _new_thread()
        await _command(c, hitl, "run.start", assistant_id="hitl", input={"messages": ["q"]})
        asked = await _read_until(
            c, hitl, {"channels": ["input", "lifecycle"]},
            lambda d: d["params"]["data"].get("event") == "interrupted",
        )  # fmt: skip
    by = {m: [ev["data"]["params"] for ev in events if ev["event"] == m] for m in ALL}
    child = by["lifecycle"][1]["namespace"]
    assert by["custom"] == [
        {"namespace": [], "timestamp": by["custom"][0]["timestamp"],
         "data": {"custom": "from-parent"}},
        {"namespace": child, "timestamp": by["custom"][1]["timestamp"],
         "data": {"custom": "from-sub"}},
    ]  # fmt: skip
    assert [(u["namespace"], u["node"]) for u in by["updates"]] == [
        ([], "parent_node"), (child, "child_node"), ([], "child")]  # fmt: skip
    assert {t["data"]["name"] for t in by["tasks"]} == {"parent_node", "child", "child_node"}
    assert [p["data"] for p in by["lifecycle"]] == [
        {"event": "running", "graph_name": "nested"},
        {"event": "started", "namespace": child, "graph_name": "child",
         "trigger_call_id": child[0].split(":")[1]},
        {"event": "completed", "graph_name": "child"},
        {"event": "completed", "graph_name": "nested"},
    ]  # fmt: skip
    assert [ev["event"] for ev in named] == ["lifecycle"] * 4  # no custom event has that name
    children = [{"namespace": child, "status": "completed", "graph_name": "child"}]
    root = {"namespace": [], "status": "completed", "graph_name": "nested"}
    assert tree["result"] == own["result"] == {"tree": {**root, "children": children}}
    request = next(ev["data"] for ev in asked if ev["event"] == "input.requested")
    iid = request["params"]["data"]["interrupt_id"]
    assert request["params"]["data"] == {"interrupt_id": iid, "payload": "what?", "value": "what?"}
    assert asked[-1]["data"]["params"]["data"] == {"event": "interrupted", "graph_name": "hitl"}


async def test_commands_report_where_the_log_stands(url: str, graphport_only: None) -> None:
    """`applied_through_seq` is the last seq before the command: `since` it, a new stream
    replays exactly the new run (the reference always answers 0 over HTTP)."""
    tid = _new_thread()
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        await _command(c, tid, "run.start", assistant_id="echo", input={"messages": ["1"]})
        first = await _read_until(c, tid, {"channels": ["lifecycle"]}, _root_end)
        second = await _command(c, tid, "run.start", assistant_id="echo",
                                input={"messages": ["2"]})  # fmt: skip
        since = second["meta"]["applied_through_seq"]
        assert since >= first[-1]["data"]["seq"]
        events = await _read_until(c, tid, {"channels": ["lifecycle"], "since": since}, _root_end)
        assert [ev["data"]["event_id"] for ev in events] == [
            f"synth:{second['result']['run_id']}:lc||running",
            f"synth:{second['result']['run_id']}:lc||completed",
        ]
        for bad in ({"since": -1}, {"since": "3"}, {"depth": "a"}, {"namespaces": "a"}):
            r = await c.post(f"/threads/{tid}/stream/events", json={"channels": ["values"], **bad})
            assert r.status_code == 400, bad
        r = await c.post("/threads/not-a-uuid/commands", json={"id": 1, "method": "x"})
        assert r.status_code == 422


def test_disable_event_streaming(tmp_path: Path, server: Server) -> None:
    if server.process is None:
        pytest.skip("needs a graphport server with its own http settings")
    config = tmp_path / "langgraph.json"
    graphs = ROOT / "tests" / "graphs" / "graphs.py"
    config.write_text(json.dumps({"graphs": {"echo": f"{graphs}:echo"},
                                  "http": {"disable_event_streaming": True}}))  # fmt: skip
    srv = start_server(tmp_path, config=config)
    try:
        with httpx.Client(base_url=srv.url, timeout=WAIT) as c:
            tid = _new_thread()
            assert c.post(f"/threads/{tid}/commands", json={}).status_code == 404
            assert c.post(f"/threads/{tid}/stream/events", json={}).status_code == 404
            assert c.post("/runs/wait", json={"assistant_id": "echo"}).status_code == 200
    finally:
        srv.stop()


async def test_run_start_on_an_interrupted_thread_resumes_it(url: str) -> None:
    """RemoteGraph sends `Command(resume=...)` as a run.start's raw input: on a thread waiting
    on an interrupt, the input is the answer."""
    tid = _new_thread()
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as c:
        first = await _command(c, tid, "run.start", assistant_id="hitl", input={"messages": ["q"]})
        asked = (await c.get(f"/threads/{tid}/runs/{first['result']['run_id']}/join")).json()
        assert asked["__interrupt__"][0]["value"] == "what?"
        second = await _command(c, tid, "run.start", assistant_id="hitl", input="answer")
        done = await c.get(f"/threads/{tid}/runs/{second['result']['run_id']}/join")
        assert done.json() == {"messages": ["q", "answer"]}
        again = await _command(c, tid, "run.start", assistant_id="hitl", input={"messages": ["r"]})
        asked = (await c.get(f"/threads/{tid}/runs/{again['result']['run_id']}/join")).json()
        assert asked["messages"] == ["q", "answer", "r"]  # not waiting any more: a new input


async def test_run_start_right_after_the_interrupt_event_resumes(tmp_path: Path) -> None:
    """A client that starts the next run as soon as it sees `input.requested` (RemoteGraph's
    v3 resume, the SDK suite's test_async_resume_after_interrupt) gets there before the
    interrupted run has stored its end (here a parallel node keeps it running for a second):
    its input is still the answer, queued behind that run."""
    srv = start_server(tmp_path, config=ROOT / "tests" / "graphs" / "langgraph-race.json")
    tid = _new_thread()
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=WAIT) as c:
            await _command(c, tid, "run.start", assistant_id="slow_hitl", input={"messages": ["q"]})
            await _read_until(
                c, tid, {"channels": ["input"]}, lambda d: d["method"] == "input.requested"
            )
            second = await _command(c, tid, "run.start", assistant_id="slow_hitl", input="answer")
            done = await c.get(f"/threads/{tid}/runs/{second['result']['run_id']}/join")
            assert done.json() == {"messages": ["q", "answer", "slow"]}  # one step, in node order
    finally:
        srv.stop()


async def test_the_state_shows_an_interrupt_once_it_is_announced(url: str) -> None:
    """`input.requested` is sent once the interrupted run's end is stored (as the reference
    does): a client that reads the thread on seeing it live finds it `interrupted`, with the
    interrupt and its next node. Before, such a read often found the thread still `busy` with
    the state before the interrupt. Five threads, as each is a chance to read too early."""
    async with (
        httpx.AsyncClient(base_url=url, timeout=WAIT) as c,
        httpx.AsyncClient(base_url=url, timeout=WAIT) as reader,
    ):
        for _ in range(5):
            tid = _new_thread()
            body = {"channels": ["input"]}
            async with reader.stream("POST", f"/threads/{tid}/stream/events", json=body) as r:
                assert r.status_code == 200  # following the thread from here on
                await _command(c, tid, "run.start", assistant_id="hitl",
                               input={"messages": ["q"]})  # fmt: skip
                async for line in r.aiter_lines():
                    if line == "event: input.requested":
                        thread = (await c.get(f"/threads/{tid}")).json()
                        state = (await c.get(f"/threads/{tid}/state")).json()
                        break
            assert thread["status"] == "interrupted"
            assert state["next"] != []
            assert [len(t["interrupts"]) for t in state["tasks"]] == [1]
