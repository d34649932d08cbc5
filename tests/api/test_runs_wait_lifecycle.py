"""POST /runs/wait: what a run leaves behind and how it lives (spec §2.1, §2.7, §2.9, §3)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, start_server, wait_until


def wait(http: httpx.Client, **body: object) -> httpx.Response:
    return http.post("/runs/wait", json=body)


def ids(r: httpx.Response) -> tuple[str, str]:
    _, _, tid, _, rid = r.headers["content-location"].split("/")
    return tid, rid


def test_default_run_deletes_its_thread(http: httpx.Client) -> None:
    r = wait(http, assistant_id="echo", input={"messages": ["x"]})
    tid, rid = ids(r)
    gone = http.get(f"/threads/{tid}/runs/{rid}")
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"Thread with ID {tid} not found"}
    assert http.get(f"/threads/{tid}").status_code == 404


def test_joining_a_deleted_run_answers_the_reference_error_body(http: httpx.Client) -> None:
    r = wait(http, assistant_id="echo", input={"messages": ["x"]})
    join = http.get(r.headers["location"])
    assert join.status_code == 200
    assert join.json() == {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}


def test_keep_leaves_thread_run_and_state(http: httpx.Client) -> None:
    r = wait(
        http,
        assistant_id="echo",
        input={"messages": ["x"]},
        on_completion="keep",
        metadata={"m": "1"},
        config={"tags": ["t"], "configurable": {"foo": "bar"}},
    )
    assert r.json() == {"messages": ["x", "hi"], "count": 1}
    tid, rid = ids(r)
    thread = http.get(f"/threads/{tid}").json()
    assert thread["status"] == "idle"
    assert thread["values"] == {"messages": ["x", "hi"], "count": 1}
    assert thread["metadata"] == {
        "graph_id": "echo",
        "assistant_id": "046b5dc7-2108-582c-9c6c-31d556d138f0",
        "m": "1",
    }
    assert thread["config"] == {"tags": ["t"], "configurable": {}}
    assert thread["error"] is None and thread["interrupts"] == {}

    run = http.get(r.headers["content-location"]).json()
    assert run["run_id"] == rid and run["thread_id"] == tid
    assert run["status"] == "success"
    assert run["metadata"]["m"] == "1"
    kw = run["kwargs"]
    assert kw["input"] == {"messages": ["x"]}
    assert kw["config"]["tags"] == ["t"]
    assert kw["config"]["configurable"]["foo"] == "bar"
    assert kw["context"] == {"foo": "bar"}
    assert kw["temporary"] is False and kw["durability"] == "async"
    assert [x["run_id"] for x in http.get(f"/threads/{tid}/runs").json()] == [rid]

    state = http.get(f"/threads/{tid}/state").json()
    assert state["values"] == {"messages": ["x", "hi"], "count": 1}
    assert state["next"] == [] and state["tasks"] == []
    assert state["metadata"]["foo"] == "bar" and state["metadata"]["step"] == 1

    join = http.get(r.headers["location"])
    assert join.status_code == 200 and join.json() == r.json()


def test_keep_interrupt_then_state_shows_the_task(http: httpx.Client) -> None:
    r = wait(http, assistant_id="hitl", input={"messages": ["x"]}, on_completion="keep")
    tid, _ = ids(r)
    interrupt_id = r.json()["__interrupt__"][0]["id"]
    thread = http.get(f"/threads/{tid}").json()
    assert thread["status"] == "interrupted"
    [(task_id, items)] = thread["interrupts"].items()
    assert items == [{"id": interrupt_id, "value": "what?"}]
    state = http.get(f"/threads/{tid}/state").json()
    assert state["next"] == ["ask"]
    assert state["tasks"][0]["id"] == task_id
    assert state["tasks"][0]["interrupts"] == [{"id": interrupt_id, "value": "what?"}]


def test_keep_error_marks_thread_error(http: httpx.Client) -> None:
    r = wait(http, assistant_id="boom", input={"messages": ["x"]}, on_completion="keep")
    tid, _ = ids(r)
    assert http.get(r.headers["content-location"]).json()["status"] == "error"
    thread = http.get(f"/threads/{tid}").json()
    assert thread["status"] == "error"
    assert thread["error"] == {"error": "ValueError", "message": "kaboom"}
    assert thread["values"] == {"messages": ["x"]}


@pytest.mark.parametrize(("durability", "has_parent"), [("exit", False), ("async", True)])
def test_durability_controls_checkpoints(
    http: httpx.Client, durability: str, has_parent: bool
) -> None:
    r = wait(
        http,
        assistant_id="sleepy",
        input={"messages": [], "sleep": 0},
        on_completion="keep",
        durability=durability,
    )
    tid, rid = ids(r)
    state = http.get(f"/threads/{tid}/state").json()
    assert state["values"]["messages"] == ["start", "woke"]
    assert (state["parent_checkpoint"] is not None) is has_parent
    assert http.get(f"/threads/{tid}/runs/{rid}").json()["kwargs"]["durability"] == durability


def test_checkpoint_during_false_means_exit(http: httpx.Client) -> None:
    r = wait(
        http,
        assistant_id="sleepy",
        input={"messages": [], "sleep": 0},
        on_completion="keep",
        checkpoint_during=False,
    )
    tid, rid = ids(r)
    assert http.get(f"/threads/{tid}/state").json()["parent_checkpoint"] is None
    assert http.get(f"/threads/{tid}/runs/{rid}").json()["kwargs"]["durability"] == "exit"


def test_temporary_thread_is_visible_while_running(http: httpx.Client, url: str) -> None:
    seen: dict[str, str] = {}

    def on_headers(resp: httpx.Response) -> None:
        seen["location"] = resp.headers["content-location"]

    with httpx.Client(base_url=url, timeout=30) as other:
        with other.stream(
            "POST", "/runs/wait", json={"assistant_id": "sleepy", "input": {"sleep": 1.0}}
        ) as resp:
            on_headers(resp)
            tid = seen["location"].split("/")[2]
            thread = http.get(f"/threads/{tid}").json()
            assert thread["status"] == "busy"
            run = http.get(seen["location"]).json()
            assert run["status"] in ("pending", "running") and run["kwargs"]["temporary"] is True
            body = b"".join(resp.iter_bytes())
    assert httpx.Response(200, content=body).json()["messages"] == ["start", "woke"]
    assert http.get(f"/threads/{tid}").status_code == 404


def test_blocking_graph_code_does_not_stall_other_runs(http: httpx.Client, url: str) -> None:
    """A sync node sleeping holds its own run only: another run finishes meanwhile."""
    result: dict[str, httpx.Response] = {}

    def slow() -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            result["slow"] = c.post(
                "/runs/wait",
                json={"assistant_id": "blocking", "input": {"sleep": 3}, "on_completion": "keep"},
            )

    t = threading.Thread(target=slow)
    t.start()
    try:
        assert wait(http, assistant_id="echo", input={"messages": ["x"]}).status_code == 200
        assert "slow" not in result  # the blocking run was still going
    finally:
        t.join()
    assert result["slow"].json()["messages"] == ["blocked"]


def test_after_seconds_delays_the_start(http: httpx.Client, url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as other:
        with other.stream(
            "POST",
            "/runs/wait",
            json={
                "assistant_id": "echo",
                "input": {"messages": ["x"]},
                "after_seconds": 1.5,
                "on_completion": "keep",
            },
        ) as resp:
            loc = resp.headers["content-location"]
            run = http.get(loc).json()
            assert run["status"] == "pending"
            assert run["created_at"] > run["updated_at"]  # the scheduled time lies ahead
            body = b"".join(resp.iter_bytes())
    assert httpx.Response(200, content=body).json() == {"messages": ["x", "hi"], "count": 1}
    assert http.get(loc).json()["status"] == "success"


def _cancel_by_disconnect(http: httpx.Client, url: str) -> str:
    """Start a 30 s kept sleepy run with on_disconnect=cancel, drop it after its first step."""
    with httpx.Client(base_url=url, timeout=30) as other:
        with other.stream(
            "POST",
            "/runs/wait",
            json={
                "assistant_id": "sleepy",
                "input": {"messages": [], "sleep": 30},
                "on_completion": "keep",
                "on_disconnect": "cancel",
            },
        ) as resp:
            loc = resp.headers["content-location"]
            state = f"/threads/{loc.split('/')[2]}/state"
            wait_until(lambda: http.get(state).json()["values"].get("messages") == ["start"])
    wait_until(lambda: http.get(loc).json()["status"] == "interrupted")
    return loc


def test_on_disconnect_cancel_interrupts_the_run(http: httpx.Client, url: str) -> None:
    loc = _cancel_by_disconnect(http, url)
    tid = loc.split("/")[2]
    thread = http.get(f"/threads/{tid}").json()
    assert thread["values"] == {"messages": ["start"], "sleep": 30}


def test_join_of_a_cancelled_run_reports_it(
    http: httpx.Client, url: str, graphport_only: None
) -> None:
    # §7 #2: graphport marks cancellation with __error__ (reference: the bare partial values)
    loc = _cancel_by_disconnect(http, url)
    join = http.get(loc + "/join").json()
    assert join["__error__"]["error"] == "UserInterrupt"


def test_on_disconnect_continue_finishes_the_run(http: httpx.Client, url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as other:
        with other.stream(
            "POST",
            "/runs/wait",
            json={
                "assistant_id": "sleepy",
                "input": {"messages": [], "sleep": 0.5},
                "on_completion": "keep",
            },
        ) as resp:
            loc = resp.headers["content-location"]
    join = http.get(loc + "/join")
    assert join.json() == {"messages": ["start", "woke"], "sleep": 0.5}
    assert http.get(loc).json()["status"] == "success"


@pytest.fixture
def own_server(tmp_path: Path, server: Server) -> Server:
    if server.process is None:
        pytest.skip("restarts a graphport server of its own")
    return start_server(tmp_path, extra_env={"GRAPHPORT_KEEPALIVE_SECONDS": "0.2"})


def test_keepalive_newlines_while_waiting(own_server: Server) -> None:
    try:
        with httpx.Client(base_url=own_server.url, timeout=30) as c:
            r = c.post("/runs/wait", json={"assistant_id": "sleepy", "input": {"sleep": 1.0}})
        assert r.content.startswith(b"\n")
        assert r.content.lstrip(b"\n") == b'{"messages":["start","woke"],"sleep":1.0}'
    finally:
        own_server.stop()


def crash_and_restart(server: Server, tmp_path: Path) -> Server:
    """kill -9 the server, then start a new one on the same port and database."""
    port = int(server.url.rsplit(":", 1)[1])
    server.stop(sig_kill=True)
    return start_server(tmp_path, port=port)


def test_pending_run_survives_a_restart(own_server: Server, tmp_path: Path) -> None:
    with httpx.Client(base_url=own_server.url, timeout=30) as c:
        with c.stream(
            "POST",
            "/runs/wait",
            json={
                "assistant_id": "echo",
                "input": {"messages": ["later"]},
                "after_seconds": 2,
                "on_completion": "keep",
            },
        ) as resp:
            loc = resp.headers["content-location"]
    again = crash_and_restart(own_server, tmp_path)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as c:
            assert c.get(loc + "/join").json() == {"messages": ["later", "hi"], "count": 1}
            assert c.get(loc).json()["status"] == "success"
    finally:
        again.stop()


def test_running_run_is_resumed_after_a_crash(own_server: Server, tmp_path: Path) -> None:
    with httpx.Client(base_url=own_server.url, timeout=30) as c:
        with c.stream(
            "POST",
            "/runs/wait",
            json={
                "assistant_id": "sleepy",
                "input": {"messages": [], "sleep": 1},
                "on_completion": "keep",
            },
        ) as resp:
            loc = resp.headers["content-location"]
            wait_until(lambda: c.get(loc).json()["status"] == "running")
    again = crash_and_restart(own_server, tmp_path)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as c:
            assert c.get(loc + "/join").json()["messages"][-1] == "woke"
            assert c.get(loc).json()["status"] == "success"
    finally:
        again.stop()


def test_update_only_command_on_a_fresh_thread_is_a_clear_400(
    http: httpx.Client, graphport_only: None
) -> None:
    """The reference fails the run with an obscure TypeError (spec §7 #12)."""
    r = wait(http, assistant_id="echo", command={"update": {"messages": ["u"]}})
    assert r.status_code == 400
    assert "only `update`" in r.json()["detail"]


def test_join_with_cancel_on_disconnect(http: httpx.Client, url: str, graphport_only: None) -> None:
    # §7 #2: graphport marks the cancelled /wait body with __error__ (reference: partial values)
    with httpx.Client(base_url=url, timeout=30) as other:
        with other.stream(
            "POST",
            "/runs/wait",
            json={
                "assistant_id": "sleepy",
                "input": {"messages": [], "sleep": 30},
                "on_completion": "keep",
            },
        ) as resp:
            loc = resp.headers["content-location"]
            with httpx.Client(base_url=url, timeout=30) as joiner:
                with joiner.stream("GET", loc + "/join", params={"cancel_on_disconnect": "true"}):
                    wait_until(lambda: http.get(loc).json()["status"] == "running")
            wait_until(lambda: http.get(loc).json()["status"] == "interrupted")
            body = b"".join(resp.iter_bytes())
    assert httpx.Response(200, content=body).json()["__error__"]["error"] == "UserInterrupt"


def test_run_timeout_is_reported(tmp_path: Path, server: Server) -> None:
    if server.process is None:
        pytest.skip("needs a graphport server with a short run timeout")
    srv = start_server(tmp_path, extra_env={"GRAPHPORT_RUN_TIMEOUT": "0.5"})
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post(
                "/runs/wait",
                json={"assistant_id": "sleepy", "input": {"messages": [], "sleep": 30},
                      "on_completion": "keep"},
            )  # fmt: skip
            assert r.json()["__error__"]["error"] == "TimeoutError"
            assert c.get(r.headers["content-location"]).json()["status"] == "timeout"
            thread = c.get("/threads/" + r.headers["content-location"].split("/")[2]).json()
            assert thread["status"] == "error" and thread["error"]["error"] == "TimeoutError"
    finally:
        srv.stop()
