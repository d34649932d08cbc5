"""`--workers 2`: one scrape of /metrics shows the whole server, whichever process answers it
(issue 13, part 3)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster.conftest import CLUSTER_CONFIG, FAST
from tests.cluster.test_workers import database  # noqa: F401  (the fixture: SQLite, PostgreSQL)
from tests.conftest import free_port, stop_process


def _scrape(url: str) -> dict[str, float]:
    with httpx.Client(timeout=30) as c:  # a new connection: any process may answer
        text = c.get(url + "/metrics").text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "lg_api_http_requests_total" and s.labels["path"] == "/runs/wait":
                samples["wait_requests"] = s.value
            elif s.name == "graphport_runs_total" and s.labels["status"] == "success":
                samples["runs"] = samples.get("runs", 0) + s.value
            elif not s.labels:
                samples[s.name] = s.value
    return samples


def test_one_scrape_sums_every_worker_process(database: str, tmp_path: Path) -> None:  # noqa: F811
    """Requests and runs served by either of 2 processes all appear in every scrape; the job
    slot gauges and the process count are the sum over both processes. A process killed with
    -9 leaves the gauges (its replacement takes its place) but not the counters."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphport", "serve", "--config", str(CLUSTER_CONFIG),
             "--port", str(port), "--database-url", database,
             "--workers", "2", "--jobs", "3"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **FAST},
            cwd=tmp_path,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _scrape(url).get("graphport_server_processes") == 2:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        sent = 0
        pattern = re.compile(r" (\d+) INFO graphport\.access: POST /runs/wait 200")
        # until both processes have served some (each request on a new connection)
        while time.monotonic() < deadline:
            r = httpx.post(url + "/runs/wait", json={"assistant_id": "steps", "input": {}},
                           timeout=30)  # fmt: skip
            assert r.status_code == 200
            sent += 1
            pids = set(pattern.findall(log_path.read_text()))
            if len(pids) == 2 and sent >= 4:
                break
        assert len(pids) == 2, "the requests never reached both processes"
        for _ in range(4):  # whichever process answers
            samples = _scrape(url)
            assert samples["wait_requests"] == sent
            assert samples["runs"] == sent
            assert samples["graphport_server_processes"] == 2
            assert samples["lg_api_workers_max"] == 6
        json_body = httpx.get(url + "/metrics?format=json").json()
        assert json_body["workers"]["max"] == 6 and json_body["processes"] == 2
        os.kill(int(min(pids)), signal.SIGKILL)
        replaced = time.monotonic() + 60
        live: set[str] = set()
        while time.monotonic() < replaced:  # until the supervisor's new process serves
            try:
                r = httpx.post(url + "/runs/wait", json={"assistant_id": "steps", "input": {}},
                               timeout=30)  # fmt: skip
                sent += r.status_code == 200
            except httpx.HTTPError:
                pass
            live = set(pattern.findall(log_path.read_text())) - pids
            if live:
                break
            time.sleep(0.1)
        assert live, "no replacement process served a request"
        for _ in range(4):
            samples = _scrape(url)
            assert samples["graphport_server_processes"] == 2
            assert samples["lg_api_workers_max"] == 6
            assert samples["wait_requests"] == sent  # the killed process's requests included
    finally:
        stop_process(proc, grace=30)
