"""Threads: CRUD, search, state, history, copy, prune, TTL (spec §1.3, §6.2, §6.4)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError

from tests.conftest import Server, start_server


@pytest.fixture
def client(url: str):  # type: ignore[no-untyped-def]
    return get_sync_client(url=url)


def test_create_get_update_delete(client, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    tid = str(uuid.uuid4())
    thread = client.threads.create(thread_id=tid, metadata={"owner": "ann"})
    assert thread["thread_id"] == tid and thread["status"] == "idle"
    assert thread["values"] is None and thread["config"] == {}
    assert "error" not in thread and "interrupts" not in thread
    assert client.threads.get(tid)["metadata"] == {"owner": "ann"}
    with pytest.raises(ConflictError):
        client.threads.create(thread_id=tid)
    r = http.post("/threads", json={"thread_id": tid})
    assert r.status_code == 409 and r.json() == {"detail": f"Thread with ID {tid} already exists"}
    same = client.threads.create(thread_id=tid, if_exists="do_nothing")
    assert same["metadata"] == {"owner": "ann"}
    updated = client.threads.update(tid, metadata={"tier": "gold"})
    assert updated["metadata"] == {"owner": "ann", "tier": "gold"}
    client.threads.delete(tid)
    with pytest.raises(NotFoundError):
        client.threads.get(tid)
    gone = http.get(f"/threads/{tid}")
    assert gone.json() == {"detail": f"Thread with ID {tid} not found"}


def test_malformed_thread_id(http: httpx.Client) -> None:
    r = http.get("/threads/not-a-uuid")
    assert r.status_code == 422 and r.json() == {"detail": "Invalid thread ID: must be a UUID"}


def test_search_count_and_select(client, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    tag = str(uuid.uuid4())
    ids = [client.threads.create(metadata={"tag": tag, "n": i})["thread_id"] for i in range(3)]
    found = client.threads.search(metadata={"tag": tag}, limit=10)
    assert [t["thread_id"] for t in found] == list(reversed(ids))  # newest first
    assert client.threads.count(metadata={"tag": tag}) == 3
    assert [t["thread_id"] for t in client.threads.search(metadata={"tag": tag, "n": 1})] == [
        ids[1]
    ]
    page = http.post("/threads/search", json={"metadata": {"tag": tag}, "limit": 2})
    assert page.headers["x-pagination-next"] == "2"
    asc = client.threads.search(metadata={"tag": tag}, sort_by="created_at", sort_order="asc")
    assert [t["thread_id"] for t in asc] == ids
    # the SDK's ThreadSortBy includes state_updated_at; the order is case-insensitive
    by_state = client.threads.search(
        metadata={"tag": tag}, sort_by="state_updated_at", sort_order="ASC"
    )
    assert [t["thread_id"] for t in by_state] == ids
    bogus = http.post("/threads/search", json={"sort_by": "metadata; DROP TABLE threads"})
    assert bogus.status_code == 422 and "Invalid sort" in bogus.json()["detail"]
    sel = client.threads.search(metadata={"tag": tag}, select=["thread_id"], limit=1)
    assert sel == [{"thread_id": ids[2]}]
    assert [t["thread_id"] for t in client.threads.search(ids=[ids[0]])] == [ids[0]]
    assert client.threads.search(metadata={"tag": tag}, status="busy") == []


def test_state_history_and_update(client) -> None:  # type: ignore[no-untyped-def]
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "echo", input={"messages": ["x"]})
    thread = client.threads.get(tid)
    assert thread["metadata"]["graph_id"] == "echo" and thread["status"] == "idle"
    state = client.threads.get_state(tid)
    assert state["values"] == {"messages": ["x", "hi"], "count": 1}
    history = client.threads.get_history(tid, limit=10)
    assert [h["metadata"]["step"] for h in history] == [1, 0, -1]
    first = history[-1]["checkpoint"]["checkpoint_id"]
    assert client.threads.get_state(tid, checkpoint_id=first)["values"] == {
        "messages": [],
        "count": 0,
    }
    out = client.threads.update_state(tid, {"messages": ["manual"]}, as_node="step")
    assert out["checkpoint"]["thread_id"] == tid
    assert client.threads.get_state(tid)["values"]["messages"] == ["x", "hi", "manual"]
    assert client.threads.get(tid)["values"]["messages"] == ["x", "hi", "manual"]


def test_history_server_default_is_one(client, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "echo", input={"messages": ["x"]})
    assert len(http.post(f"/threads/{tid}/history", json={}).json()) == 1
    assert len(http.get(f"/threads/{tid}/history").json()) == 1
    assert len(http.get(f"/threads/{tid}/history", params={"limit": 5}).json()) == 3
    bad = http.get(f"/threads/{tid}/history", params={"limit": "x"})
    assert bad.status_code == 422 and bad.json() == {"detail": "Invalid limit x"}


def test_update_state_needs_a_graph(client, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    tid = client.threads.create()["thread_id"]
    r = http.post(f"/threads/{tid}/state", json={"values": {"messages": ["x"]}})
    assert r.status_code == 400
    assert r.json()["detail"].startswith(f"Thread '{tid}' has no assigned graph ID.")


def test_supersteps_and_copy(client) -> None:  # type: ignore[no-untyped-def]
    thread = client.threads.create(
        graph_id="echo",
        supersteps=[{"updates": [{"values": {"messages": ["seed"]}, "as_node": "step"}]}],
    )
    tid = thread["thread_id"]
    assert client.threads.get_state(tid)["values"]["messages"] == ["seed"]
    copy = client.threads.copy(tid)
    assert copy["thread_id"] != tid
    assert client.threads.get_state(copy["thread_id"])["values"]["messages"] == ["seed"]
    client.runs.wait(copy["thread_id"], "echo", input={"messages": ["more"]})
    assert client.threads.get_state(tid)["values"]["messages"] == ["seed"]  # independent


def test_prune(client) -> None:  # type: ignore[no-untyped-def]
    ids = [client.threads.create()["thread_id"] for _ in range(2)]
    assert client.threads.prune(ids) == {"pruned_count": 2}
    with pytest.raises(NotFoundError):
        client.threads.get(ids[0])


def test_prune_keep_latest(client, http: httpx.Client, graphport_only) -> None:  # type: ignore[no-untyped-def]
    """keep_latest keeps each thread and its state but only its latest checkpoint, on every
    backend (the reference's dev server refuses it on its in-memory runtime). No threads:
    nothing to do, 200."""
    assert http.post(
        "/threads/prune", json={"thread_ids": [], "strategy": "keep_latest"}
    ).json() == {"pruned_count": 0}
    tid = client.threads.create()["thread_id"]
    for text in ("a", "b"):
        client.runs.wait(tid, "echo", input={"messages": [text]})
    assert len(client.threads.get_history(tid, limit=100)) > 1
    missing = str(uuid.uuid4())
    resp = http.post(
        "/threads/prune", json={"thread_ids": [tid, missing], "strategy": "keep_latest"}
    )
    assert resp.json() == {"pruned_count": 1}
    history = client.threads.get_history(tid, limit=100)
    assert len(history) == 1
    assert history[0]["values"] == client.threads.get_state(tid)["values"]
    assert client.threads.get_state(tid)["values"]["messages"] == ["a", "hi", "b", "hi"]
    client.runs.wait(tid, "echo", input={"messages": ["c"]})  # the thread goes on
    assert client.threads.get_state(tid)["values"]["messages"][-2:] == ["c", "hi"]


def test_delete_removes_runs_and_checkpoints(client, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "echo", input={"messages": ["x"]})
    client.threads.delete(tid)
    client.threads.create(thread_id=tid)
    assert client.threads.get_state(tid)["values"] == {}
    assert client.runs.list(tid) == []


def test_expired_threads_are_swept(tmp_path: Path, server: Server) -> None:
    if server.process is None:
        pytest.skip("needs a graphport server with a fast TTL sweep")
    srv = start_server(tmp_path, extra_env={"GRAPHPORT_TTL_SWEEP_SECONDS": "0.1"})
    try:
        client = get_sync_client(url=srv.url)
        short = client.threads.create(ttl={"ttl": 0.005, "strategy": "delete"})  # 0.3 s
        keep = client.threads.create()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client.threads.get(short["thread_id"])
            except NotFoundError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("expired thread was not swept")
        assert client.threads.get(keep["thread_id"])["thread_id"] == keep["thread_id"]
    finally:
        srv.stop()


def test_thread_stream_follows_every_run(client, url: str, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    import threading

    from tests.api.test_join_stream import parse_sse

    tid = client.threads.create()["thread_id"]
    received = bytearray()
    ready = threading.Event()

    def follow() -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            with c.stream("GET", f"/threads/{tid}/stream",
                          params={"stream_modes": "run_modes,state_update"}) as r:  # fmt: skip
                ready.set()
                for chunk in r.iter_bytes():
                    received.extend(chunk)
                    if received.count(b"run_done") >= 2 and b"state_update" in received:
                        return

    t = threading.Thread(target=follow)
    t.start()
    ready.wait(10)
    time.sleep(0.2)
    client.runs.wait(tid, "echo", input={"messages": ["1"]})
    client.runs.wait(tid, "echo", input={"messages": ["2"]})
    client.threads.update_state(tid, {"messages": ["3"]})
    t.join(20)
    events = parse_sse(bytes(received))
    names = [e["event"] for e in events]
    assert names.count("metadata") == 4  # run start and run_done, twice
    assert names.count("values") == 4 and names[-1] == "state_update"
    ids = [int(e["id"].split("-")[1]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    bad = http.get(f"/threads/{tid}/stream", params={"stream_modes": "bogus"})
    assert bad.status_code == 422 and bad.json() == {"detail": "Invalid stream mode: bogus"}
