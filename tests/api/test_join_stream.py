"""GET /threads/{tid}/runs/{rid}/stream: SSE framing, resumable replay by Last-Event-ID."""

from __future__ import annotations

import threading
import time

import httpx
from langgraph_sdk import get_sync_client


def parse_sse(raw: bytes) -> list[dict[str, str]]:
    events = []
    for block in raw.split(b"\r\n\r\n"):
        if not block or block.startswith(b":"):
            continue
        fields = dict(line.split(b": ", 1) for line in block.split(b"\r\n"))
        events.append({k.decode(): v.decode() for k, v in fields.items()})
    return events


def start_background_wait(url: str, body: dict[str, object]) -> tuple[threading.Thread, dict]:
    out: dict[str, object] = {}

    def go() -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            with c.stream("POST", "/runs/wait", json=body) as r:
                out["location"] = r.headers["content-location"]
                out["body"] = b"".join(r.iter_bytes())

    t = threading.Thread(target=go)
    t.start()
    while "location" not in out:
        time.sleep(0.01)
    return t, out


def test_resumable_stream_replays_after_last_event_id(
    http: httpx.Client, url: str, graphport_only: None
) -> None:
    # §7 #9: graphport's event ids are unique per run (reference: <ms>-0, colliding)
    t, out = start_background_wait(
        url,
        {"assistant_id": "sleepy", "input": {"messages": [], "sleep": 0.3},
         "on_completion": "keep", "stream_resumable": True,
         "stream_mode": ["values", "updates"]},
    )  # fmt: skip
    loc = str(out["location"])
    live = http.get(loc + "/stream")
    t.join()
    assert live.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert live.headers["content-location"] == loc
    assert live.headers["location"] == loc + "/stream"

    full = http.get(loc + "/stream", headers={"Last-Event-ID": "0"})
    events = parse_sse(full.content)
    names = [e["event"] for e in events]
    assert names[0] == "metadata"
    assert names[1:] == ["values", "updates", "values", "updates", "values"]
    ids = [e["id"] for e in events]
    seqs = [int(i.rsplit("-", 1)[1]) for i in ids]
    assert len(set(ids)) == len(ids) and seqs == sorted(seqs)
    assert full.content.endswith(b"\r\n\r\n")

    # resume after the third event: exactly the rest, no gap, no duplicate
    rest = parse_sse(http.get(loc + "/stream", headers={"Last-Event-ID": ids[2]}).content)
    assert [e["id"] for e in rest] == ids[3:]
    only_updates = http.get(
        loc + "/stream", params={"stream_mode": "updates"}, headers={"Last-Event-ID": "-1"}
    )
    assert {e["event"] for e in parse_sse(only_updates.content)} == {"metadata", "updates"}


def test_resuming_mid_run_sees_no_gap(http: httpx.Client, url: str) -> None:
    t, out = start_background_wait(
        url,
        {"assistant_id": "sleepy", "input": {"messages": [], "sleep": 1.0},
         "on_completion": "keep", "stream_resumable": True},
    )  # fmt: skip
    loc = str(out["location"])
    seen: list[dict[str, str]] = []
    with http.stream("GET", loc + "/stream", headers={"Last-Event-ID": "0"}) as r:
        buf = b""
        for chunk in r.iter_bytes():
            buf += chunk
            if buf.count(b"\r\n\r\n") >= 2:  # metadata + first values: drop the connection
                break
        seen = parse_sse(buf)[:2]
    rest = parse_sse(http.get(loc + "/stream", headers={"Last-Event-ID": seen[-1]["id"]}).content)
    t.join()
    everything = parse_sse(http.get(loc + "/stream", headers={"Last-Event-ID": "0"}).content)
    assert [e["id"] for e in seen + rest] == [e["id"] for e in everything]


def test_non_resumable_finished_run_stream_is_empty(http: httpx.Client) -> None:
    r = http.post(
        "/runs/wait",
        json={"assistant_id": "echo", "input": {"messages": []}, "on_completion": "keep"},
    )
    s = http.get(r.headers["content-location"] + "/stream")
    assert s.status_code == 200 and s.content == b""


def test_unknown_run_stream_is_an_error_event(http: httpx.Client) -> None:
    tid = "00000000-0000-4000-8000-000000000000"
    s = http.get(f"/threads/{tid}/runs/{tid}/stream")
    assert s.status_code == 200
    assert s.content == (
        b'event: error\r\ndata: {"error":"HTTPException","message":"404: Run not found"}\r\n\r\n'
    )


def test_sdk_join_stream_of_a_live_run(url: str) -> None:
    t, out = start_background_wait(
        url,
        {"assistant_id": "sleepy", "input": {"messages": [], "sleep": 0.5},
         "on_completion": "keep", "stream_mode": ["values", "updates"]},
    )  # fmt: skip
    _, _, tid, _, rid = str(out["location"]).split("/")
    client = get_sync_client(url=url)
    parts = list(client.runs.join_stream(tid, rid))
    t.join()
    assert parts and parts[-1].event == "values"
    assert parts[-1].data == {"messages": ["start", "woke"], "sleep": 0.5}
