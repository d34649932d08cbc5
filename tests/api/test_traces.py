"""OpenTelemetry traces (issue 13, part 4): a span per request, per run and per node, exported
over OTLP/HTTP to a loopback receiver, continuing the request's W3C `traceparent`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import Server, start_server

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


class OtlpReceiver:
    """An OTLP/HTTP endpoint on 127.0.0.1 that decodes every exported span."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    resource = _attributes(resource_spans.resource.attributes)
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            receiver.spans.append({
                                "name": span.name, "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_id": span.parent_span_id.hex(),
                                "attributes": _attributes(span.attributes),
                                "status": span.status.code, "resource": resource,
                            })  # fmt: skip
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def env(self) -> dict[str, str]:
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.url, "OTEL_BSP_SCHEDULE_DELAY": "50"}

    def wait_for(self, predicate: Any, limit: float = 30) -> list[dict[str, Any]]:
        """The spans once `predicate(spans)` holds (exports are batched)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if predicate(self.spans):
                return self.spans
            time.sleep(0.05)
        raise AssertionError(f"spans never matched; got {[s['name'] for s in self.spans]}")

    def close(self) -> None:
        self.httpd.shutdown()


def _attributes(attributes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in attributes:
        kind = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, kind) if kind else None
    return out


def by_name(spans: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [s for s in spans if s["name"] == name]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver()
    yield r
    r.close()


@pytest.fixture
def traced(tmp_path: Path, server: Server, receiver: OtlpReceiver) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("needs a graphport server exporting to this test's receiver")
    srv = start_server(tmp_path, extra_env=receiver.env)
    yield srv
    srv.stop()


def test_request_run_and_node_spans_continue_the_traceparent(
    traced: Server, receiver: OtlpReceiver
) -> None:
    """A request with a `traceparent`: its server span is that parent's child, the run's span
    is the request span's child (attributes run, thread, assistant, graph, status, attempt),
    and each graph node has a span below the run's."""
    r = httpx.post(
        traced.url + "/runs/wait",
        json={"assistant_id": "router", "input": {"route": "a"}},
        headers={"traceparent": TRACEPARENT}, timeout=30,
    )  # fmt: skip
    assert r.status_code == 200
    spans = receiver.wait_for(
        lambda spans: by_name(spans, "POST /runs/wait") and by_name(spans, "run router")
    )
    request = by_name(spans, "POST /runs/wait")[0]
    assert request["trace_id"] == TRACE_ID and request["parent_id"] == PARENT_ID
    assert request["attributes"]["http.route"] == "/runs/wait"
    assert request["attributes"]["http.response.status_code"] == 200
    run = by_name(spans, "run router")[0]
    assert run["trace_id"] == TRACE_ID and run["parent_id"] == request["span_id"]
    attributes = run["attributes"]
    assert attributes["langgraph.graph.id"] == "router"
    assert attributes["langgraph.run.status"] == "success"
    assert attributes["langgraph.run.attempt"] == 1
    assert {"langgraph.run.id", "langgraph.thread.id", "langgraph.assistant.id"} <= set(attributes)
    nodes = [s for s in spans if s["name"].startswith("node ")]
    assert nodes, "no node span"
    assert all(n["parent_id"] == run["span_id"] for n in nodes)
    assert all(n["trace_id"] == TRACE_ID for n in nodes)


def test_a_failed_run_span_has_error_status_and_the_context_is_not_shown(
    traced: Server, receiver: OtlpReceiver
) -> None:
    """A run ending in `error` has an ERROR span; without a `traceparent` a new trace starts;
    the stored trace context is internal (not in the run's public kwargs)."""
    with httpx.Client(base_url=traced.url, timeout=30) as c:
        thread_id = c.post("/threads", json={}).json()["thread_id"]
        c.post(f"/threads/{thread_id}/runs/wait", json={"assistant_id": "boom", "input": {}})
        runs = c.get(f"/threads/{thread_id}/runs").json()
    assert runs and "trace_context" not in runs[0]["kwargs"]
    spans = receiver.wait_for(lambda spans: by_name(spans, "run boom"))
    run = by_name(spans, "run boom")[0]
    assert run["attributes"]["langgraph.run.status"] == "error"
    assert run["status"] == 2  # STATUS_CODE_ERROR
    assert run["trace_id"] != TRACE_ID
    request = [s for s in spans if s["span_id"] == run["parent_id"]]
    assert request and request[0]["name"] == "POST /threads/{thread_id}/runs/wait"


def test_no_otel_variables_no_spans(tmp_path: Path, server: Server, receiver: OtlpReceiver) -> None:
    """Without OTEL_* variables nothing is exported (tracing is off, at no cost)."""
    if server.process is None:
        pytest.skip("needs a graphport server of its own")
    srv = start_server(tmp_path, extra_env={"OTEL_BSP_SCHEDULE_DELAY": "50"})
    try:
        r = httpx.post(srv.url + "/runs/wait", json={"assistant_id": "echo", "input": {}},
                       headers={"traceparent": TRACEPARENT}, timeout=30)  # fmt: skip
        assert r.status_code == 200
    finally:
        srv.stop()  # a shutdown flushes whatever would have been buffered
    assert receiver.spans == []
