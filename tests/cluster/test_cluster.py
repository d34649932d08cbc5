"""Several server processes on one database: runs, results, live events and cancellations
cross processes; a killed process's runs are taken over; SIGTERM drains and hands back."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid

import httpx
from langgraph_sdk import get_client

from tests.cluster.conftest import Cluster

TWO_STEPS = ["first", "second"]


async def _status(client, thread_id: str, run_id: str) -> str:
    return (await client.runs.get(thread_id, run_id))["status"]


async def test_a_run_pending_on_a_busy_process_is_run_by_another(cluster: Cluster) -> None:
    """With its only slot busy, a server leaves a new run pending; the other process claims it
    at once and the client waiting on the first server gets the result."""
    cluster.start(2, GRAPHPORT_JOBS="1")
    a, b = get_client(url=cluster.url(0)), get_client(url=cluster.url(1))
    busy_thread = await a.threads.create()
    busy = await a.runs.create(busy_thread["thread_id"], "steps", input={"sleep": 1.0})
    thread = await a.threads.create()
    result = await a.runs.wait(thread["thread_id"], "steps", input={"steps": [], "tag": "x"})
    assert result["steps"] == TWO_STEPS
    # and a stateless /runs/wait on the busy server too
    assert (await a.runs.wait(None, "steps", input={"tag": "y"}))["steps"] == TWO_STEPS
    # the busy run's result reaches a join on the other process
    joined = await b.runs.join(busy_thread["thread_id"], busy["run_id"])
    assert joined["steps"] == TWO_STEPS


async def test_live_events_reach_a_client_of_another_process(cluster: Cluster) -> None:
    """A stream created on a full server shows every event of the run another process
    executes, in order."""
    cluster.start(2, GRAPHPORT_JOBS="1")
    a = get_client(url=cluster.url(0))
    busy_thread = await a.threads.create()
    await a.runs.create(busy_thread["thread_id"], "steps", input={"sleep": 1.0})
    thread = await a.threads.create()
    events = [
        (part.event, part.data)
        async for part in a.runs.stream(
            thread["thread_id"], "steps", input={"sleep": 0.05}, stream_mode=["updates"]
        )
    ]
    assert [e for e, _ in events] == ["metadata", "updates", "updates"]
    assert [list(d) for e, d in events if e == "updates"] == [["first"], ["second"]]


async def test_resumable_stream_replays_on_another_process(cluster: Cluster) -> None:
    """Events of a resumable run are kept by every process: a client joining through the
    other server with Last-Event-ID -1 gets all of them."""
    cluster.start(2)
    a, b = get_client(url=cluster.url(0)), get_client(url=cluster.url(1))
    thread = await a.threads.create()
    run = await a.runs.create(
        thread["thread_id"],
        "steps",
        input={"sleep": 0.3},
        stream_mode=["updates"],
        stream_resumable=True,
    )
    parts = [
        p async for p in b.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1")
    ]
    updates = [list(p.data) for p in parts if p.event == "updates"]
    assert updates == [["first"], ["second"]]


async def test_cancel_through_another_process(cluster: Cluster) -> None:
    """Cancelling a run through a server that does not execute it stops it."""
    cluster.start(2)
    a, b = get_client(url=cluster.url(0)), get_client(url=cluster.url(1))
    thread = await a.threads.create()
    run = await a.runs.create(thread["thread_id"], "steps", input={"sleep": 30})
    for _ in range(100):
        if await _status(b, thread["thread_id"], run["run_id"]) == "running":
            break
        await asyncio.sleep(0.05)
    await b.runs.cancel(thread["thread_id"], run["run_id"])
    body = await b.runs.join(thread["thread_id"], run["run_id"])
    assert body["__error__"]["error"] == "UserInterrupt"
    assert await _status(a, thread["thread_id"], run["run_id"]) == "interrupted"


async def test_thread_stream_on_another_process(cluster: Cluster) -> None:
    """GET /threads/{tid}/stream on one server follows a run executed by the other."""
    cluster.start(2)
    a = get_client(url=cluster.url(0))
    thread = await a.threads.create()
    seen: list[str] = []

    async def follow() -> None:
        async with httpx.AsyncClient(base_url=cluster.url(1), timeout=30) as http:
            async with http.stream("GET", f"/threads/{thread['thread_id']}/stream") as resp:
                async for line in resp.aiter_lines():
                    if line.startswith("event:"):
                        seen.append(line.split(":", 1)[1].strip())
                    if line.startswith("data:") and "run_done" in line:
                        return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.5)  # the follow message is on its way
    await a.runs.wait(thread["thread_id"], "steps", input={"sleep": 0.2})
    await asyncio.wait_for(follower, 20)
    assert "values" in seen


async def test_chaos_killed_processes_lose_no_run(cluster: Cluster) -> None:
    """Kill -9 the process executing runs, again and again: every run still ends exactly once
    with the right output, its waiting client (connected to the other process) gets it, and
    the thread shows each step once (the run resumed from its checkpoint or started over)."""
    cluster.start(2)
    rounds, per_round = 4, 5
    for round_ in range(rounds):
        victim, survivor = round_ % 2, 1 - round_ % 2
        v, s = get_client(url=cluster.url(victim)), get_client(url=cluster.url(survivor))
        runs = []
        for _ in range(per_round):
            thread = await v.threads.create()
            run = await v.runs.create(thread["thread_id"], "steps", input={"sleep": 0.4})
            runs.append((thread["thread_id"], run["run_id"]))
        joins = [asyncio.create_task(s.runs.join(t, r)) for t, r in runs]
        await asyncio.sleep(0.2 + 0.25 * (round_ % 3))  # mid-first-step or mid-second-step
        cluster.servers[victim].stop(sig_kill=True)
        results = await asyncio.wait_for(asyncio.gather(*joins), 60)
        cluster.restart(victim)
        for (thread_id, run_id), result in zip(runs, results, strict=True):
            assert result["steps"] == TWO_STEPS, (result, cluster.logs())
            assert await _status(s, thread_id, run_id) == "success"
            state = await s.threads.get_state(thread_id)
            assert state["values"]["steps"] == TWO_STEPS
            listed = await s.runs.list(thread_id)
            assert [r["run_id"] for r in listed] == [run_id]


async def test_a_run_that_keeps_killing_its_process_fails_after_max_attempts(
    cluster: Cluster,
) -> None:
    """The `crash` graph kills whichever process runs it: after GRAPHPORT_MAX_ATTEMPTS
    executions the run is failed with a clear error instead of taking servers down forever."""
    cluster.start(2, GRAPHPORT_MAX_ATTEMPTS="2")
    a = get_client(url=cluster.url(0))
    thread = await a.threads.create()
    run = await a.runs.create(thread["thread_id"], "crash", input={})
    deadline = time.monotonic() + 90
    status = "pending"
    while time.monotonic() < deadline:
        for i, server in enumerate(cluster.servers):
            if server.process is not None and server.process.poll() is not None:
                try:
                    cluster.restart(i)  # as a supervisor (or --workers) would
                except RuntimeError:
                    # The new process may take the crash run over and die before it answers
                    # /ok: that is the behaviour under test, so it is simply restarted again.
                    pass
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                for i in range(2):
                    resp = await http.get(
                        f"{cluster.url(i)}/threads/{thread['thread_id']}/runs/{run['run_id']}"
                    )
                    if resp.status_code == 200:
                        status = resp.json()["status"]
                        break
        except httpx.HTTPError:
            pass
        if status == "error":
            break
        await asyncio.sleep(0.2)
    assert status == "error", cluster.logs()
    c = get_client(url=cluster.url(0))
    body = await c.runs.join(thread["thread_id"], run["run_id"])
    assert body["__error__"]["error"] == "RunAbandoned"
    assert "after 2 attempts" in body["__error__"]["message"]


async def test_sigterm_drains_then_hands_back(cluster: Cluster) -> None:
    """SIGTERM: a run that ends within the drain time finishes where it is; one that does not
    is handed back at once (no heartbeat timeout) and finished by the other process."""
    cluster.start(2, GRAPHPORT_DRAIN_SECONDS="1.0", GRAPHPORT_STALE_AFTER_SECONDS="60")
    a, b = get_client(url=cluster.url(0)), get_client(url=cluster.url(1))
    short_thread, long_thread = await a.threads.create(), await a.threads.create()
    short = await a.runs.create(short_thread["thread_id"], "steps", input={"sleep": 0.2})
    long = await a.runs.create(long_thread["thread_id"], "steps", input={"sleep": 1.5})
    await asyncio.sleep(0.1)
    proc = cluster.servers[0].process
    assert proc is not None
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)  # uvicorn re-raises the signal once it has shut down: exit -15
    assert (await b.runs.join(short_thread["thread_id"], short["run_id"]))["steps"] == TWO_STEPS
    done = await asyncio.wait_for(b.runs.join(long_thread["thread_id"], long["run_id"]), 30)
    assert done["steps"] == TWO_STEPS
    assert "handed back 1 unfinished run" in cluster.servers[0].log()


async def test_thread_event_protocol_across_processes(cluster: Cluster) -> None:
    """`run.start` sent to one server (which executes the run); the v2 event stream of the
    thread read from the other shows it from `running` to `completed`, with its updates."""
    from tests.api.test_thread_protocol import _command, _read_until, _root_end

    cluster.start(2)
    tid = str(uuid.uuid4())
    async with (
        httpx.AsyncClient(base_url=cluster.url(0), timeout=60) as a,
        httpx.AsyncClient(base_url=cluster.url(1), timeout=60) as b,
    ):
        await a.post("/threads", json={"thread_id": tid})
        reader = asyncio.create_task(
            _read_until(b, tid, {"channels": ["lifecycle", "updates"]}, _root_end)
        )
        await asyncio.sleep(0.5)  # the follow message is on its way
        reply = await _command(a, tid, "run.start", assistant_id="steps", input={"sleep": 0.1})
        assert reply["type"] == "success", reply
        events = await reader
    lifecycle = [e["data"]["params"]["data"]["event"] for e in events if e["event"] == "lifecycle"]
    nodes = [e["data"]["params"]["node"] for e in events if e["event"] == "updates"]
    assert lifecycle[-1] == "completed"
    assert nodes == ["first", "second"]


async def test_a2a_and_mcp_across_processes(cluster: Cluster) -> None:
    """An A2A task streamed from one process is read and cancelled through another (its stream
    ends `canceled`); an MCP tool call through either runs the assistant."""
    cluster.start(2)
    params = {"message": {"role": "user", "messageId": "m",
                          "parts": [{"kind": "data", "data": {"sleep": 30}}]}}  # fmt: skip
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": params}
    async with (
        httpx.AsyncClient(base_url=cluster.url(0), timeout=60) as a,
        httpx.AsyncClient(base_url=cluster.url(1), timeout=60) as b,
        a.stream("POST", "/a2a/steps", json=body) as response,
    ):
        states: list[str] = []
        task_id = ""
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            result = json.loads(line[6:])["result"]
            task_id = task_id or result["id"]
            states.append(result["status"]["state"])
            if states == ["submitted", "working"]:
                for _ in range(200):  # until the other process sees it running
                    get = {"jsonrpc": "2.0", "id": 2, "method": "tasks/get",
                           "params": {"id": task_id}}  # fmt: skip
                    got = await b.post("/a2a/steps", json=get)
                    if got.json()["result"]["status"]["state"] == "working":
                        break
                    await asyncio.sleep(0.05)
                cancel = {"jsonrpc": "2.0", "id": 3, "method": "CancelTask",
                          "params": {"id": task_id}}  # fmt: skip
                cancelled = (await b.post("/a2a/steps", json=cancel)).json()["result"]
                assert cancelled["status"]["state"] == "TASK_STATE_CANCELED"
        assert states[-1] == "canceled", states
        call = {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                "params": {"name": "steps", "arguments": {"sleep": 0}}}  # fmt: skip
        accept = {"accept": "application/json, text/event-stream"}
        answer = (await b.post("/mcp", json=call, headers=accept)).json()
        assert "result" in answer, answer
        done = answer["result"]
        assert not done.get("isError") and "second" in done["content"][0]["text"]


async def test_a_run_uses_the_assistant_another_process_just_changed(cluster: Cluster) -> None:
    """Each process keeps a copy of the assistants its runs use; a change made through another
    process is seen by the very next run (its insert checks the copy is current), for an update
    and for a delete."""
    cluster.start(2)
    a, b = get_client(url=cluster.url(0)), get_client(url=cluster.url(1))
    made = await a.assistants.create("steps", config={"configurable": {"who": "v1"}})
    aid = made["assistant_id"]

    async def configured_on_b() -> str:
        thread = await b.threads.create()
        run = await b.runs.create(thread["thread_id"], aid, input={"tag": "t"})
        await b.runs.join(thread["thread_id"], run["run_id"])
        stored = await b.runs.get(thread["thread_id"], run["run_id"])
        return stored["kwargs"]["config"]["configurable"]["who"]

    assert await configured_on_b() == "v1"  # b holds the v1 copy now
    await a.assistants.update(aid, config={"configurable": {"who": "v2"}})
    assert await configured_on_b() == "v2"
    await a.assistants.delete(aid)
    r = httpx.post(cluster.url(1) + "/runs/wait", json={"assistant_id": aid, "input": {}})
    assert (r.status_code, r.json()) == (404, {"detail": "Thread or assistant not found."})


async def test_every_waiter_on_another_process_hears_the_end(cluster: Cluster) -> None:
    """A process tells the others of a run's end only where one waits (storage flags it): a
    join, a live (not resumable) join stream, a cancel that waits and a delete of an in-flight
    run, each on the process that does not execute the run, all return."""
    cluster.start(2)
    a, b = get_client(url=cluster.url(0)), get_client(url=cluster.url(1))

    async def running(sleep: float) -> tuple[str, str]:
        thread = await a.threads.create()
        run = await a.runs.create(thread["thread_id"], "steps", input={"sleep": sleep})
        for _ in range(200):
            if await _status(b, thread["thread_id"], run["run_id"]) == "running":
                break
            await asyncio.sleep(0.05)
        return thread["thread_id"], run["run_id"]

    tid, rid = await running(0.5)
    stream = b.runs.join_stream(tid, rid, stream_mode=["updates"])
    # both return: the stream ends with the run (its events may have passed before the
    # executing process heard of the follower: a live join starts "now")
    joined, _ = await asyncio.gather(b.runs.join(tid, rid), _collect(stream))
    assert joined["steps"] == TWO_STEPS
    tid, rid = await running(30)
    async with httpx.AsyncClient(base_url=cluster.url(1), timeout=30) as http:
        cancelled = await http.post(f"/threads/{tid}/runs/{rid}/cancel", params={"wait": "1"})
        assert cancelled.status_code == 200, cancelled.text
        assert await _status(a, tid, rid) == "interrupted"
        tid, rid = await running(30)
        deleted = await http.delete(f"/threads/{tid}/runs/{rid}")
        assert deleted.status_code == 204, deleted.text
        assert (await http.get(f"/threads/{tid}/runs/{rid}")).status_code == 404


async def _collect(stream) -> list[str]:
    return [part.event async for part in stream]
