"""Webhooks: delivered signed, retried on 5xx, recorded, and kept across a restart (issue 4)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, Server, start_server

CONFIG = ROOT / "tests" / "graphs" / "langgraph-webhooks.json"
SECRET = "test-secret"


class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests and answers scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # consumed per request; 200 when empty
        self.redirect_to: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(
                    {"t": time.monotonic(), "path": self.path, "headers": dict(self.headers),
                     "body": body, "method": "POST"}
                )  # fmt: skip
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if status in (302, 307) and receiver.redirect_to:
                    self.send_header("location", receiver.redirect_to)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                receiver.requests.append({"t": time.monotonic(), "path": self.path,
                                          "method": "GET", "headers": {}, "body": b""})  # fmt: skip
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, n: int, limit: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + limit
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= n, f"got {len(self.requests)} of {n} deliveries"
        return self.requests

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


ENV = {
    "GRAPHPORT_WEBHOOK_SECRET": SECRET,
    "GRAPHPORT_WEBHOOK_RETRY_BASE": "0.2",
    "GRAPHPORT_WEBHOOK_MAX_ATTEMPTS": "4",
    "LG_WEBHOOK_TOKEN": "tok",
}


@pytest.fixture
def hook_server(tmp_path: Path, server: Server) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("needs a graphport server with its own webhook settings")
    srv = start_server(tmp_path, config=CONFIG, extra_env=ENV)
    yield srv
    srv.stop()


def verify(headers: dict[str, str], body: bytes) -> bool:
    """The documented verification: HMAC-SHA256 of "<t>.<body>" with the shared secret."""
    parts = dict(p.split("=", 1) for p in headers["x-graphport-signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


def delivery(c: httpx.Client, run_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = c.get(f"/runs/{run_id}/webhook")
        if r.status_code == 200 and r.json()["status"] == status:
            return r.json()  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"delivery of {run_id} never became {status}")


def test_delivery_is_signed_and_carries_final_values(
    hook_server: Server, receiver: Receiver
) -> None:
    with httpx.Client(base_url=hook_server.url, timeout=30) as c:
        r = c.post(
            "/runs/wait",
            json={"assistant_id": "echo", "input": {"messages": ["x"]},
                  "webhook": receiver.url + "/hook?q=1"},
        )  # fmt: skip
        run_id = r.headers["content-location"].rsplit("/", 1)[1]
        [req] = receiver.wait_for(1)
        assert req["path"] == "/hook?q=1"
        assert req["headers"]["x-static"] == "v" and req["headers"]["x-token"] == "tok"
        assert req["headers"]["x-leak"] == ""  # only LG_WEBHOOK_* variables are expanded
        assert verify(req["headers"], req["body"])
        payload = json.loads(req["body"])
        assert payload["run_id"] == run_id and payload["status"] == "success"
        assert payload["values"] == {"messages": ["x", "hi"], "count": 1}  # also when deleted
        assert "error" not in payload
        assert {"run_started_at", "run_ended_at", "webhook_sent_at", "kwargs"} <= payload.keys()
        record = delivery(c, run_id, "delivered")
        assert [a["status_code"] for a in record["attempts"]] == [200]


def test_failed_run_sends_its_error(hook_server: Server, receiver: Receiver) -> None:
    with httpx.Client(base_url=hook_server.url, timeout=30) as c:
        c.post("/runs/wait", json={"assistant_id": "boom", "input": {"messages": ["x"]},
                                   "webhook": receiver.url})  # fmt: skip
        payload = json.loads(receiver.wait_for(1)[0]["body"])
        assert payload["status"] == "error"
        assert payload["error"] == {"error": "ValueError", "message": "kaboom"}


def test_5xx_is_retried_with_backoff_and_each_attempt_recorded(
    hook_server: Server, receiver: Receiver
) -> None:
    receiver.statuses = [503, 500]
    with httpx.Client(base_url=hook_server.url, timeout=30) as c:
        r = c.post("/runs/wait", json={"assistant_id": "echo", "input": {"messages": ["x"]},
                                       "webhook": receiver.url})  # fmt: skip
        run_id = r.headers["content-location"].rsplit("/", 1)[1]
        reqs = receiver.wait_for(3)
        gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(reqs)]
        # retry n waits base * 2**(n-1) * U(0.5, 1.5), base = 0.2 s here
        assert gaps[0] >= 0.2 * 0.5 and gaps[1] >= 0.4 * 0.5
        assert all(verify(q["headers"], q["body"]) for q in reqs)
        record = delivery(c, run_id, "delivered")
        assert [a["status_code"] for a in record["attempts"]] == [503, 500, 200]


def test_4xx_gets_one_attempt(hook_server: Server, receiver: Receiver) -> None:
    receiver.statuses = [404]
    with httpx.Client(base_url=hook_server.url, timeout=30) as c:
        r = c.post("/runs/wait", json={"assistant_id": "echo", "input": {"messages": ["x"]},
                                       "webhook": receiver.url})  # fmt: skip
        run_id = r.headers["content-location"].rsplit("/", 1)[1]
        record = delivery(c, run_id, "failed")
        assert [a["status_code"] for a in record["attempts"]] == [404]
        assert len(receiver.requests) == 1


def test_redirects_are_not_turned_into_gets(hook_server: Server, receiver: Receiver) -> None:
    receiver.statuses = [307, 302]
    receiver.redirect_to = receiver.url + "/moved"
    with httpx.Client(base_url=hook_server.url, timeout=30) as c:
        r = c.post("/runs/wait", json={"assistant_id": "echo", "input": {"messages": ["x"]},
                                       "webhook": receiver.url})  # fmt: skip
        run_id = r.headers["content-location"].rsplit("/", 1)[1]
        record = delivery(c, run_id, "failed")
    # 307: POSTed again to its target with the body; 302: not followed at all
    assert [(q["method"], q["path"]) for q in receiver.requests] == [
        ("POST", "/"),
        ("POST", "/moved"),
    ]
    assert receiver.requests[1]["body"] and json.loads(receiver.requests[1]["body"])["run_id"]
    assert "redirect (302) not followed" in record["attempts"][0]["error"]


def test_pending_delivery_survives_a_restart(
    hook_server: Server, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.statuses = [503] * 2
    port = int(hook_server.url.rsplit(":", 1)[1])
    with httpx.Client(base_url=hook_server.url, timeout=30) as c:
        r = c.post("/runs/wait", json={"assistant_id": "echo", "input": {"messages": ["x"]},
                                       "webhook": receiver.url})  # fmt: skip
        run_id = r.headers["content-location"].rsplit("/", 1)[1]
        receiver.wait_for(1)
    hook_server.stop(sig_kill=True)
    again = start_server(tmp_path, config=CONFIG, extra_env=ENV, port=port)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as c:
            record = delivery(c, run_id, "delivered")
        assert record["attempts"][-1]["status_code"] == 200
        assert json.loads(receiver.requests[-1]["body"])["run_id"] == run_id
    finally:
        again.stop()
