"""No fault of graph code takes the server down for good (issue 11.4).

An exception of any kind raised by a node (SystemExit, KeyboardInterrupt, a custom
BaseException, RecursionError), from a sync or an async node, ends that run `error` and the
process keeps serving. A node that ends its process (os._exit, SIGKILL) costs its run an attempt
each time, also on a single process started again, until GRAPHPORT_MAX_ATTEMPTS fail it. A sync
node that blocks holds only its own thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client

from tests.conftest import ROOT, Server, start_server, wait_until

CONFIG = ROOT / "tests" / "graphs" / "langgraph-faults.json"
MAX_ATTEMPTS = 2
# a restarted server on PostgreSQL takes over its predecessor's runs once its heartbeat is stale
RESTART_ENV = {
    "GRAPHPORT_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "GRAPHPORT_HEARTBEAT_SECONDS": "0.2",
    "GRAPHPORT_STALE_AFTER_SECONDS": "1.0",
}
RAISED = [
    ("sys_exit", "SystemExit"),
    ("keyboard", "KeyboardInterrupt"),
    ("base", "Custom"),
    ("recursion", "RecursionError"),
]


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("faults"), config=CONFIG)
    yield server
    server.stop()


def _still_serving(server: Server) -> None:
    assert server.process is not None and server.process.poll() is None, server.log()[-4000:]
    r = httpx.post(
        server.url + "/runs/wait", json={"assistant_id": "echo", "input": {"messages": ["x"]}}
    )
    assert r.status_code == 200 and r.json()["messages"] == ["x", "hi"]


@pytest.mark.parametrize("graph", ["fault_sync", "fault_async"])
@pytest.mark.parametrize(("fault", "error"), RAISED)
def test_a_raised_fault_ends_the_run_error_and_the_server_serves_on(
    faults: Server, graph: str, fault: str, error: str
) -> None:
    r = httpx.post(
        faults.url + "/runs/wait", json={"assistant_id": graph, "input": {"fault": fault}}
    )
    assert r.status_code == 200
    assert r.json()["__error__"]["error"] == error
    _still_serving(faults)


@pytest.mark.parametrize("fault", ["sys_exit", "keyboard"])
def test_a_thread_run_that_exits_leaves_its_thread_in_error(faults: Server, fault: str) -> None:
    client = get_sync_client(url=faults.url)
    thread = client.threads.create()
    run = client.runs.create(thread["thread_id"], "fault_sync", input={"fault": fault})
    client.runs.join(thread["thread_id"], run["run_id"])
    assert client.runs.get(thread["thread_id"], run["run_id"])["status"] == "error"
    assert client.threads.get(thread["thread_id"])["status"] == "error"
    _still_serving(faults)


def test_a_streamed_run_that_exits_ends_its_stream_with_an_error_event(faults: Server) -> None:
    body = {"assistant_id": "fault_async", "input": {"fault": "sys_exit"}}
    with httpx.stream("POST", faults.url + "/runs/stream", json=body, timeout=60) as r:
        assert r.status_code == 200
        text = r.read().decode()
    assert "event: error\r\n" in text
    assert '"error":"SystemExit"' in text
    _still_serving(faults)


def test_a_blocking_sync_node_does_not_hold_up_other_requests(
    faults: Server, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    client = get_sync_client(url=faults.url)
    thread = client.threads.create()
    run = client.runs.create(
        thread["thread_id"], "fault_sync", input={"fault": "block", "release": str(release)}
    )
    wait_until(
        lambda: client.runs.get(thread["thread_id"], run["run_id"])["status"] == "running",
        what="the blocking run running",
    )
    for _ in range(3):  # answered while the node still blocks: it holds only its thread
        assert httpx.get(faults.url + "/ok").status_code == 200
        _still_serving(faults)
    assert client.runs.get(thread["thread_id"], run["run_id"])["status"] == "running"
    release.touch()
    client.runs.join(thread["thread_id"], run["run_id"])
    assert client.runs.get(thread["thread_id"], run["run_id"])["status"] == "success"
    assert client.threads.get_state(thread["thread_id"])["values"]["done"] is True


@pytest.mark.parametrize("fault", ["os_exit", "sigkill"])
def test_a_node_that_kills_its_process_fails_its_run_after_the_attempts(
    tmp_path: Path, fault: str
) -> None:
    first = start_server(tmp_path, config=CONFIG, extra_env=RESTART_ENV)
    assert first.process is not None
    thread = httpx.post(first.url + "/threads", json={}).json()["thread_id"]
    run = httpx.post(
        first.url + f"/threads/{thread}/runs",
        json={"assistant_id": "fault_sync", "input": {"fault": fault}},
    ).json()["run_id"]
    first.process.wait(60)  # the node ended it
    deaths = 1

    # started again and again, as a supervisor would: each start runs the run again, until its
    # attempts are spent; then the run is failed and the server stays up
    while True:
        assert deaths <= MAX_ATTEMPTS, f"the run killed its server {deaths} times"
        try:
            server = start_server(tmp_path, config=CONFIG, extra_env=RESTART_ENV)
        except RuntimeError as exc:
            assert "exited with" in str(exc), exc
            deaths += 1
            continue

        def settled(server: Server = server) -> str | None:
            assert server.process is not None
            if server.process.poll() is not None:
                return "died"
            status = httpx.get(server.url + f"/threads/{thread}/runs/{run}").json()["status"]
            return "failed" if status == "error" else None

        if (
            wait_until(settled, what="the run failed or the server died", ignore=(httpx.HTTPError,))
            == "failed"
        ):
            break
        deaths += 1
    try:
        assert deaths == MAX_ATTEMPTS
        joined = httpx.get(server.url + f"/threads/{thread}/runs/{run}/join").json()
        assert joined["__error__"]["error"] == "RunAbandoned"
        assert httpx.get(server.url + f"/threads/{thread}").json()["status"] == "error"
        _still_serving(server)
    finally:
        server.stop()
