"""A request's `traceparent` continues into its run when another process executes it: the
trace context travels with the run row (issue 13, part 4)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.test_traces import PARENT_ID, TRACE_ID, TRACEPARENT, OtlpReceiver, by_name
from tests.cluster.conftest import CLUSTER_CONFIG, FAST
from tests.cluster.test_workers import database  # noqa: F401  (the fixture: SQLite, PostgreSQL)
from tests.conftest import start_server


def test_run_executed_by_another_process_continues_the_request_trace(
    database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Process A (one job slot, taken) receives the request; B executes the run; B's run span
    is in the request's trace, the child of A's request span."""
    receiver = OtlpReceiver()
    env = {**FAST, **receiver.env, "GRAPHPORT_SQLITE_SHARED": "1"}
    a = start_server(tmp_path, config=CLUSTER_CONFIG, database_url=database,
                     extra_env={**env, "GRAPHPORT_JOBS": "1"})  # fmt: skip
    b = start_server(tmp_path, config=CLUSTER_CONFIG, database_url=database, extra_env=env)
    try:
        with httpx.Client(base_url=a.url, timeout=60) as c:
            thread_id = c.post("/threads", json={}).json()["thread_id"]
            slow = {"assistant_id": "steps", "input": {"sleep": 30}}
            blocker = c.post(f"/threads/{thread_id}/runs", json=slow).json()
            assert blocker["status"] in ("pending", "running")
            r = c.post("/runs/wait", json={"assistant_id": "steps", "input": {"tag": "t"}},
                       headers={"traceparent": TRACEPARENT})  # fmt: skip
            assert r.status_code == 200 and r.json()["steps"] == ["first", "second"]
            c.post(f"/threads/{thread_id}/runs/{blocker['run_id']}/cancel")
        spans = receiver.wait_for(
            lambda spans: [s for s in by_name(spans, "run steps")
                           if s["trace_id"] == TRACE_ID] and by_name(spans, "POST /runs/wait")
        )  # fmt: skip
        request = by_name(spans, "POST /runs/wait")[0]
        assert request["parent_id"] == PARENT_ID
        assert request["resource"]["process.pid"] == a.process.pid  # type: ignore[union-attr]
        run = next(s for s in by_name(spans, "run steps") if s["trace_id"] == TRACE_ID)
        assert run["resource"]["process.pid"] == b.process.pid  # type: ignore[union-attr]
        assert run["parent_id"] == request["span_id"]
        nodes = [s for s in spans if s["parent_id"] == run["span_id"]]
        assert {n["name"] for n in nodes} == {"node first", "node second"}
    finally:
        a.stop()
        b.stop()
        receiver.close()
