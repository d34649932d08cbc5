"""GET /metrics: the reference's Prometheus names and JSON shape, plus graphport's run, queue and
webhook figures; counts rise by exactly what was done (issue 13, part 3)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.test_webhooks import CONFIG as WEBHOOK_CONFIG
from tests.api.test_webhooks import Receiver
from tests.conftest import Server, start_server

LATENCY_BUCKETS = [10, 100, 500, 1000, 5000, 15000, 30000, 60000, 120000, 300000, 600000,
                   1800000, 3600000, float("inf")]  # fmt: skip
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(c: httpx.Client) -> Samples:
    r = c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory, server: Server) -> Iterator[Server]:
    """A server of its own: no other test's requests or runs move its counts."""
    if server.process is None:
        pytest.skip("exact counts need a graphport server of this module's own")
    srv = start_server(tmp_path_factory.mktemp("metrics"), extra_env={"GRAPHPORT_JOBS": "7"})
    yield srv
    srv.stop()


@pytest.fixture
def c(own: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=own.url, timeout=30) as client:
        yield client


def test_requests_are_counted_by_route_template_and_meta_routes_are_not(c: httpx.Client) -> None:
    """Each request adds 1 to lg_api_http_requests_total{method, path=template, status} and one
    observation to the latency histogram; /ok, /info, /metrics, /docs, /openapi.json add
    nothing; an unmatched path counts as path=""."""
    thread_id = c.post("/threads", json={}).json()["thread_id"]
    before = scrape(c)
    for _ in range(3):
        assert c.get(f"/threads/{thread_id}").status_code == 200
    assert c.get("/threads/00000000-0000-0000-0000-000000000000").status_code == 404
    assert c.get("/no/such/route").status_code == 404
    for meta in ("/ok", "/info", "/metrics", "/docs", "/openapi.json", "/metrics?format=json"):
        c.get(meta)
    after = scrape(c)
    total = "lg_api_http_requests_total"
    template = "/threads/{thread_id}"
    rise = {
        key: after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == total and after[key] != before.get(key, 0.0)
    }
    assert rise == {
        (total, frozenset({"method": "GET", "path": template, "status": "200"}.items())): 3,
        (total, frozenset({"method": "GET", "path": template, "status": "404"}.items())): 1,
        (total, frozenset({"method": "GET", "path": "", "status": "404"}.items())): 1,
    }
    count = "lg_api_http_requests_latency_count"
    assert (
        value(after, count, method="GET", path=template)
        - value(before, count, method="GET", path=template)
        == 4
    )
    buckets = sorted(
        (float(dict(k[1])["le"]) for k in after
         if k[0] == "lg_api_http_requests_latency_bucket" and dict(k[1])["path"] == template),
    )  # fmt: skip
    assert buckets == LATENCY_BUCKETS
    paths = {dict(k[1]).get("path") for k in after if k[0] == total}
    assert not paths & {"/ok", "/info", "/metrics", "/docs", "/openapi.json", "/docs/{name}"}


def test_workers_gauges_are_the_job_slots(c: httpx.Client) -> None:
    """lg_api_workers_max is the job slots (--jobs); active + available = max; one process."""
    samples = scrape(c)
    assert value(samples, "lg_api_workers_max") == 7
    active = value(samples, "lg_api_workers_active")
    assert active + value(samples, "lg_api_workers_available") == 7
    assert value(samples, "graphport_server_processes") == 1


def test_runs_are_counted_by_graph_and_terminal_status(c: httpx.Client) -> None:
    """Each ended run adds 1 to graphport_runs_total{graph, status} and one observation to the
    run duration and queue wait histograms of its graph."""
    before = scrape(c)
    for _ in range(2):
        assert c.post("/runs/wait", json={"assistant_id": "echo", "input": {"messages": ["x"]}})
    c.post("/runs/wait", json={"assistant_id": "boom", "input": {}})
    after = scrape(c)

    def rise(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert rise("graphport_runs_total", graph="echo", status="success") == 2
    assert rise("graphport_runs_total", graph="boom", status="error") == 1
    assert rise("graphport_run_duration_seconds_count", graph="echo") == 2
    assert rise("graphport_run_queue_wait_seconds_count", graph="echo") == 2
    assert rise("graphport_run_queue_wait_seconds_count", graph="boom") == 1
    wait_ok = {"method": "POST", "path": "/runs/wait", "status": "200"}
    assert rise("lg_api_http_requests_total", **wait_ok) == 3


def test_json_format_has_the_reference_shape_and_sees_a_pending_run(c: httpx.Client) -> None:
    """?format=json: queue (n_pending, n_running, wait times), api (request counts), workers;
    a delayed run is pending with a wait time until it is cancelled."""
    thread_id = c.post("/threads", json={}).json()["thread_id"]
    run = c.post(
        f"/threads/{thread_id}/runs",
        json={"assistant_id": "echo", "input": {}, "after_seconds": 600},
    ).json()
    try:
        body = c.get("/metrics", params={"format": "json"}).json()
        assert set(body) == {"queue", "api", "workers", "processes"}  # the last graphport's
        assert body["processes"] == 1
        queue = body["queue"]
        assert set(queue) == {
            "n_pending", "n_running", "pending_runs_wait_time_max_secs",
            "pending_runs_wait_time_med_secs", "pending_unblocked_runs_wait_time_max_secs",
        }  # fmt: skip
        assert queue["n_pending"] >= 1
        assert queue["pending_runs_wait_time_max_secs"] >= 0
        assert body["workers"]["max"] == 7
        assert body["workers"]["active"] + body["workers"]["available"] == 7
        entries = body["api"]["http_requests_total"]
        assert {"method", "path", "status", "count"} == set(entries[0])
        created = [e for e in entries if e["path"] == "/threads/{thread_id}/runs"]
        assert created and created[0]["method"] == "POST" and created[0]["status"] == 200
    finally:
        c.post(f"/threads/{thread_id}/runs/{run['run_id']}/cancel")
    text = scrape(c)
    assert value(text, "graphport_runs_pending") == 0


def test_webhook_deliveries_are_counted_by_outcome(tmp_path: Path, server: Server) -> None:
    """graphport_webhook_deliveries_total{outcome}: a 500 then a 200 is one `retried` and one
    `delivered`."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own webhook settings")
    receiver = Receiver()
    receiver.statuses = [500]
    srv = start_server(tmp_path, config=WEBHOOK_CONFIG,
                       extra_env={"GRAPHPORT_WEBHOOK_RETRY_BASE": "0.1"})  # fmt: skip
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            before = scrape(c)
            run = c.post(
                "/runs/wait",
                json={"assistant_id": "echo", "input": {}, "webhook": receiver.url + "/hook"},
                headers={"accept": "application/json"},
            )
            assert run.status_code == 200
            receiver.wait_for(2)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                after = scrape(c)
                delivered = value(after, "graphport_webhook_deliveries_total", outcome="delivered")
                if delivered > value(before, "graphport_webhook_deliveries_total",
                                     outcome="delivered"):  # fmt: skip
                    break
                time.sleep(0.05)
            name = "graphport_webhook_deliveries_total"
            assert (
                value(after, name, outcome="delivered") - value(before, name, outcome="delivered")
                == 1
            )
            assert (
                value(after, name, outcome="retried") - value(before, name, outcome="retried") == 1
            )
            assert value(after, name, outcome="failed") == value(before, name, outcome="failed")
    finally:
        srv.stop()
        receiver.close()


def test_disable_meta_removes_metrics(tmp_path: Path, server: Server) -> None:
    """http.disable_meta: /metrics answers 404, as /info and /openapi.json do; /ok stays."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    from tests.conftest import GRAPHS_CONFIG

    config: dict[str, Any] = json.loads(GRAPHS_CONFIG.read_text())
    config["dependencies"] = [str(GRAPHS_CONFIG.parent)]
    config["graphs"] = {"echo": str(GRAPHS_CONFIG.parent / "graphs.py") + ":echo"}
    config["http"] = {"disable_meta": True}
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    srv = start_server(tmp_path, config=path)
    try:
        assert httpx.get(srv.url + "/metrics").status_code == 404
        assert httpx.get(srv.url + "/ok").status_code == 200
    finally:
        srv.stop()


def test_under_a_mount_prefix_metrics_move_and_paths_stay_templates(
    tmp_path: Path, server: Server
) -> None:
    """http.mount_prefix: /metrics is under the prefix; `path` is the route template without
    the prefix, so dashboards do not change with it."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    from tests.conftest import GRAPHS_CONFIG

    config: dict[str, Any] = json.loads(GRAPHS_CONFIG.read_text())
    config["dependencies"] = [str(GRAPHS_CONFIG.parent)]
    config["graphs"] = {"echo": str(GRAPHS_CONFIG.parent / "graphs.py") + ":echo"}
    config["http"] = {"mount_prefix": "/api"}
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    srv = start_server(tmp_path, config=path)
    try:
        with httpx.Client(base_url=srv.url + "/api", timeout=30) as c:
            thread_id = c.post("/threads", json={}).json()["thread_id"]
            assert c.get(f"/threads/{thread_id}").status_code == 200
            samples = scrape(c)
        labels = {"method": "GET", "path": "/threads/{thread_id}", "status": "200"}
        assert value(samples, "lg_api_http_requests_total", **labels) == 1
        assert httpx.get(srv.url + "/metrics").status_code == 404
    finally:
        srv.stop()
