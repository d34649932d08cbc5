"""CPU and garbage-collector time per trivial run, in process: the floor against graphport.

Drives an app's ASGI callable directly (no sockets, no load generator sharing the cores), so the
CPU time per request is the app's own, and times every pass of the cyclic collector through
`gc.callbacks` (issue 15: the collector was a fifth of graphport's event-loop time).

    .venv/bin/python bench/gc_per_run.py --app floor --requests 3000 --concurrency 32
    .venv/bin/python bench/gc_per_run.py --app graphport --requests 3000 --concurrency 32
    .venv/bin/python bench/gc_per_run.py --app floor --freeze --threshold 10000,10,10

graphport tunes its collector itself once start-up is over (graphport/gc_tuning.py); run an older
revision with PYTHONPATH=<rev>/src to compare. `--freeze` / `--threshold` apply those settings
after the warm-up (to either app, e.g. to see what the floor would gain). The bench app is
copied from the harness (`--harness`, default ../shared/bench) to a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BODY = b'{"assistant_id":"trivial","input":{"value":0}}'


class CollectorClock:
    """Seconds spent in the collector, and passes per generation, since `reset`."""

    def __init__(self) -> None:
        self._started = 0.0
        self.reset()
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.seconds = 0.0
        self.passes = [0, 0, 0]

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.passes[info["generation"]] += 1


def build(which: str, config: Path, harness: Path) -> Any:
    if which == "floor":
        sys.path.insert(0, str(harness / "floor"))
        import bare_app  # type: ignore[import-not-found]

        return bare_app.build_app("graph", str(config))
    from graphport.app import create_app
    from graphport.cli import _logging
    from graphport.config import load_settings
    from graphport.graphs import load_graphs

    settings = load_settings(config=str(config))
    _logging(settings.log_level, settings.log_json)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # the lines still cost their formatting
    return create_app(settings, load_graphs(settings))


async def request(app: Any) -> None:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/runs/wait", "raw_path": b"/runs/wait", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(BODY)).encode())],
    }  # fmt: skip
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    assert status == [200], status


async def measure(app: Any, args: argparse.Namespace, clock: CollectorClock) -> dict[str, Any]:
    startup: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def lifespan_send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    lifespan = asyncio.ensure_future(app(scope, startup.get, lifespan_send))
    await startup.put({"type": "lifespan.startup"})
    while not sent:
        await asyncio.sleep(0.01)
    assert sent[0]["type"] == "lifespan.startup.complete", sent

    async def batch(n: int) -> None:
        slots = asyncio.Semaphore(args.concurrency)

        async def one() -> None:
            async with slots:
                await request(app)

        await asyncio.gather(*(one() for _ in range(n)))

    await batch(500)  # warm-up
    if args.freeze:
        gc.freeze()
    if args.threshold:
        gc.set_threshold(*(int(x) for x in args.threshold.split(",")))
    clock.reset()
    cpu, main, wall = time.process_time(), time.thread_time(), time.perf_counter()
    await batch(args.requests)
    cpu, main, wall = (
        time.process_time() - cpu, time.thread_time() - main, time.perf_counter() - wall
    )  # fmt: skip
    n = args.requests
    result = {
        "app": args.app, "requests": n, "concurrency": args.concurrency,
        "freeze": args.freeze, "threshold": list(gc.get_threshold()),
        "cpu_ms_per_request": round(1e3 * cpu / n, 3),
        "loop_thread_ms_per_request": round(1e3 * main / n, 3),
        "wall_ms_per_request": round(1e3 * wall / n, 3),
        "gc_ms_per_request": round(1e3 * clock.seconds / n, 3),
        "gc_passes_per_generation": clock.passes,
        "gc_frozen_objects": gc.get_freeze_count(),
        "gc_tracked_objects": len(gc.get_objects()),
    }  # fmt: skip
    await startup.put({"type": "lifespan.shutdown"})
    await lifespan
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--app", choices=["floor", "graphport"], default="graphport")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--freeze", action="store_true", help="gc.freeze() after the warm-up")
    ap.add_argument("--threshold", help="gc.set_threshold after the warm-up, e.g. 10000,10,10")
    ap.add_argument("--harness", default=str(Path(__file__).parents[2] / "shared" / "bench"))
    args = ap.parse_args()
    import uvloop

    harness = Path(args.harness).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        app_dir = Path(tmp) / "app"
        shutil.copytree(harness / "app", app_dir)
        os.chdir(app_dir)
        sys.path.insert(0, str(app_dir))
        clock = CollectorClock()
        app = build(args.app, app_dir / "langgraph.json", harness)
        print(json.dumps(uvloop.run(measure(app, args, clock))))


if __name__ == "__main__":
    main()
