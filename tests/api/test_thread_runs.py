"""Runs on threads and stateless background/stream runs (spec §1.4, §3, §4, §6.6)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import ConflictError

from tests.api.test_join_stream import parse_sse

REJECT = (
    "Thread is already running a task. Wait for it to finish or choose a different multitask "
    "strategy."
)


@pytest.fixture
def client(url: str) -> Any:
    return get_sync_client(url=url)


def wait_status(client: Any, tid: str, rid: str, status: str, limit: float = 20) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        run = client.runs.get(tid, rid)
        if run["status"] == status:
            return run  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError(f"run {rid} never became {status}")


def test_interrupt_and_resume_on_a_thread(client: Any) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.wait(tid, "hitl", input={"messages": ["x"]})
    assert first["__interrupt__"][0]["value"] == "what?"
    assert client.threads.get(tid)["status"] == "interrupted"
    resumed = client.runs.wait(tid, "hitl", command={"resume": "answer"})
    assert resumed == {"messages": ["x", "answer"]}
    assert client.threads.get(tid)["status"] == "idle"


def test_background_run_then_join(client: Any, http: httpx.Client) -> None:
    tid = client.threads.create()["thread_id"]
    r = http.post(f"/threads/{tid}/runs", json={"assistant_id": "echo", "input": {"messages": []}})
    run = r.json()
    assert r.headers["content-location"] == f"/threads/{tid}/runs/{run['run_id']}"
    assert run["status"] in ("pending", "running") and run["thread_id"] == tid
    assert client.runs.join(tid, run["run_id"]) == {"messages": ["hi"], "count": 1}
    assert client.runs.get(tid, run["run_id"])["status"] == "success"


def test_run_on_a_missing_thread(client: Any, http: httpx.Client) -> None:
    tid = "00000000-0000-4000-8000-000000000001"
    r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "echo", "input": {}})
    assert r.status_code == 404
    created = http.post(
        f"/threads/{tid}/runs/wait",
        json={"assistant_id": "echo", "input": {"messages": []}, "if_not_exists": "create"},
    )
    assert created.json() == {"messages": ["hi"], "count": 1}
    assert client.threads.get(tid)["metadata"]["graph_id"] == "echo"
    client.threads.delete(tid)


def test_stream_on_a_thread_every_mode(client: Any) -> None:
    tid = client.threads.create()["thread_id"]
    parts = list(
        client.runs.stream(
            tid,
            "nested",
            input={"messages": ["x"]},
            stream_mode=["values", "updates", "custom", "debug", "tasks", "checkpoints"],
            stream_subgraphs=True,
        )
    )
    events = [p.event for p in parts]
    assert events[0] == "metadata"
    for name in ["values", "updates", "custom", "debug", "tasks", "checkpoints"]:
        assert name in events, name
    assert any(e.startswith("custom|child:") for e in events)
    assert {"custom": "from-sub"} in [p.data for p in parts if p.event.startswith("custom|")]
    assert parts[-1].event in ("values", "checkpoints", "debug", "tasks", "updates")
    finals = [p.data for p in parts if p.event == "values"]
    assert finals[-1]["messages"] == ["x", "parent", "sub"] or finals[-1]["messages"][-1] == "sub"


def test_stream_tokens_from_a_chat_model(client: Any) -> None:
    tuples = [
        p.data
        for p in client.runs.stream(
            None,
            "chat",
            input={"messages": [{"role": "user", "content": "hi"}]},
            stream_mode="messages-tuple",
        )
        if p.event == "messages"
    ]
    assert "".join(chunk["content"] for chunk, _meta in tuples) == "hello world"
    assert len(tuples) >= 2  # token by token
    partial = [
        p.data
        for p in client.runs.stream(
            None,
            "chat",
            input={"messages": [{"role": "user", "content": "hi"}]},
            stream_mode="messages",
        )
        if p.event == "messages/partial"
    ]
    assert partial[-1][0]["content"] == "hello world"


def test_stream_events_mode(client: Any) -> None:
    parts = list(client.runs.stream(None, "echo", input={"messages": []}, stream_mode="events"))
    kinds = {p.data["event"] for p in parts if p.event == "events"}
    assert {"on_chain_start", "on_chain_end"} <= kinds


def test_stream_error_event(http: httpx.Client) -> None:
    r = http.post("/runs/stream", json={"assistant_id": "boom", "input": {"messages": []}})
    events = parse_sse(r.content)
    assert events[-1] == {
        "event": "error",
        "data": '{"error":"ValueError","message":"kaboom"}',
    }


def test_stateless_stream_headers_point_at_real_routes(http: httpx.Client) -> None:
    """The reference's stateless Location /runs/{rid}/stream does not exist (spec §7 #7)."""
    r = http.post(
        "/runs/stream",
        json={"assistant_id": "echo", "input": {"messages": []}, "on_completion": "keep"},
    )
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    loc = r.headers["content-location"]
    assert r.headers["location"] == loc + "/stream"
    assert http.get(loc).json()["status"] == "success"
    bg = http.post("/runs", json={"assistant_id": "echo", "input": {"messages": []},
                                  "on_completion": "keep"})  # fmt: skip
    assert http.get(bg.headers["content-location"]).status_code == 200


def test_batch(http: httpx.Client, client: Any) -> None:
    r = http.post("/runs/batch", json=[
        {"assistant_id": "echo", "input": {"messages": ["a"]}, "on_completion": "keep"},
        {"assistant_id": "echo", "input": {"messages": ["b"]}, "on_completion": "keep"},
    ])  # fmt: skip
    runs = r.json()
    assert len(runs) == 2 and len({x["thread_id"] for x in runs}) == 2
    for run in runs:
        assert client.runs.join(run["thread_id"], run["run_id"])["count"] == 1


def test_multitask_reject(client: Any, http: httpx.Client) -> None:
    tid = client.threads.create()["thread_id"]
    slow = client.runs.create(tid, "sleepy", input={"messages": [], "sleep": 2})
    r = http.post(
        f"/threads/{tid}/runs",
        json={"assistant_id": "echo", "input": {}, "multitask_strategy": "reject"},
    )
    assert r.status_code == 409 and r.json() == {"detail": REJECT}
    with pytest.raises(ConflictError):
        client.runs.create(tid, "echo", input={}, multitask_strategy="reject")
    client.runs.cancel(tid, slow["run_id"], wait=True)


def test_multitask_interrupt_keeps_partial_state(client: Any) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "sleepy", input={"messages": [], "sleep": 30})
    _wait_values(client, tid, ["start"])
    second = client.runs.create(
        tid, "sleepy", input={"messages": ["second"], "sleep": 0}, multitask_strategy="interrupt"
    )
    out = client.runs.join(tid, second["run_id"])
    assert out["messages"] == ["start", "second", "start", "woke"]
    assert client.runs.get(tid, first["run_id"])["status"] == "interrupted"


def test_multitask_rollback_erases_the_first_run(client: Any, http: httpx.Client) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "sleepy", input={"messages": [], "sleep": 30})
    _wait_values(client, tid, ["start"])
    second = client.runs.create(
        tid, "sleepy", input={"messages": ["second"], "sleep": 0}, multitask_strategy="rollback"
    )
    out = client.runs.join(tid, second["run_id"])
    assert out["messages"] == ["second", "start", "woke"]
    assert http.get(f"/threads/{tid}/runs/{first['run_id']}").status_code == 404


def test_multitask_enqueue_runs_in_order(client: Any) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "sleepy", input={"messages": ["1"], "sleep": 0.3})
    second = client.runs.create(tid, "sleepy", input={"messages": ["2"], "sleep": 0})
    assert client.runs.get(tid, second["run_id"])["status"] == "pending"
    out = client.runs.join(tid, second["run_id"])
    assert out["messages"] == ["1", "start", "woke", "2", "start", "woke"]
    assert client.runs.get(tid, first["run_id"])["status"] == "success"


def test_double_texting_race_never_runs_two_at_once(url: str) -> None:
    """Many concurrent enqueue runs on one thread: all run, one at a time, none lost."""
    client = get_sync_client(url=url)
    for _ in range(3):
        tid = client.threads.create()["thread_id"]
        errors: list[BaseException] = []

        def send(i: int, tid: str = tid, errors: list[BaseException] = errors) -> None:
            try:
                get_sync_client(url=url).runs.wait(tid, "echo", input={"messages": [str(i)]})
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=send, args=(i,)) for i in range(12)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert not errors
        state = client.threads.get_state(tid)["values"]
        assert state["count"] == 12
        msgs = state["messages"]
        # each run appended its input then "hi", never interleaved with another run
        assert len(msgs) == 24 and all(msgs[i + 1] == "hi" for i in range(0, 24, 2))
        assert sorted(int(m) for m in msgs[::2]) == list(range(12))
        assert all(r["status"] == "success" for r in client.runs.list(tid, limit=20))


def test_cancel_running_run(client: Any, http: httpx.Client) -> None:
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "sleepy", input={"messages": [], "sleep": 30})
    _wait_values(client, tid, ["start"])
    r = http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel")
    assert r.status_code == 202 and r.content == b""
    wait_status(client, tid, run["run_id"], "interrupted")
    thread = client.threads.get(tid)
    assert thread["status"] == "idle"  # not "interrupted": spec §7 #15
    assert thread["values"]["messages"] == ["start"]
    again = http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel")
    assert again.status_code == 404
    assert again.json()["detail"].startswith("No matching runs to cancel.")


def test_cancel_with_wait_and_rollback(client: Any, http: httpx.Client) -> None:
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "echo", input={"messages": ["kept"]})
    run = client.runs.create(tid, "sleepy", input={"messages": ["gone"], "sleep": 30})
    _wait_values(client, tid, ["kept", "hi", "gone", "start"], key_count=False)
    r = http.post(
        f"/threads/{tid}/runs/{run['run_id']}/cancel", params={"wait": "true", "action": "rollback"}
    )
    assert r.status_code == 200 and r.json()["__error__"]["error"] == "UserInterrupt"
    assert http.get(f"/threads/{tid}/runs/{run['run_id']}").status_code == 404
    assert client.threads.get_state(tid)["values"]["messages"] == ["kept", "hi"]


def test_cancel_pending_runs_by_status(client: Any, http: httpx.Client) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "sleepy", input={"messages": [], "sleep": 30})
    queued = client.runs.create(tid, "echo", input={"messages": []})
    r = http.post("/runs/cancel", json={"thread_id": tid, "run_ids": [queued["run_id"]]})
    assert r.status_code == 204
    assert client.runs.get(tid, queued["run_id"])["status"] == "interrupted"
    bad = http.post("/runs/cancel", json={"status": "pending", "thread_id": tid})
    assert bad.status_code == 422
    assert bad.json() == {"detail": "Cannot specify 'thread_id' or 'run_ids' when using 'status'"}
    client.runs.cancel(tid, first["run_id"], wait=True)


def test_delete_run(client: Any, http: httpx.Client) -> None:
    tid = client.threads.create()["thread_id"]
    out = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "echo", "input": {}})
    rid = out.headers["content-location"].rsplit("/", 1)[1]
    assert http.delete(f"/threads/{tid}/runs/{rid}").status_code == 204
    assert http.get(f"/threads/{tid}/runs/{rid}").status_code == 404


def test_fork_from_a_checkpoint(client: Any) -> None:
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "echo", input={"messages": ["a"]})
    client.runs.wait(tid, "echo", input={"messages": ["b"]})
    history = client.threads.get_history(tid, limit=20)
    after_first = next(h for h in history if h["values"].get("messages") == ["a", "hi"])
    forked = client.runs.wait(
        tid, "echo", input={"messages": ["c"]}, checkpoint_id=after_first["checkpoint_id"]
    )
    assert forked["messages"] == ["a", "hi", "c", "hi"]


def test_interrupt_before(client: Any) -> None:
    tid = client.threads.create()["thread_id"]
    out = client.runs.wait(tid, "echo", input={"messages": ["x"]}, interrupt_before=["step"])
    assert out["messages"] == ["x"]
    assert client.threads.get(tid)["status"] == "interrupted"
    assert client.threads.get_state(tid)["next"] == ["step"]
    assert client.runs.wait(tid, "echo", input=None)["messages"] == ["x", "hi"]


def _wait_values(client: Any, tid: str, messages: list[str], key_count: bool = True) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        values = client.threads.get_state(tid)["values"]
        if values and values.get("messages") == messages:
            return
        time.sleep(0.02)
    raise AssertionError(f"thread {tid} never reached {messages}")


def test_stream_on_disconnect_cancel(client: Any, url: str) -> None:
    tid = client.threads.create()["thread_id"]
    with httpx.Client(base_url=url, timeout=30) as c:
        with c.stream(
            "POST",
            f"/threads/{tid}/runs/stream",
            json={"assistant_id": "sleepy", "input": {"messages": [], "sleep": 30},
                  "on_disconnect": "cancel"},
        ) as r:  # fmt: skip
            rid = r.headers["content-location"].rsplit("/", 1)[1]
            _wait_values(client, tid, ["start"])
    wait_status(client, tid, rid, "interrupted")
