"""Cost as the data grows (issue 15, goal 4): latency ratios inside one run, so noise cancels.

Starts one graphport server on a fresh SQLite file (or `--database-url`) serving the shared
harness's app, then measures:

- thread search (limit 10), count, get and state with 200 threads, then with 20 000;
- state, history (limit 10) and the run list on a thread with 5 runs, then with 500;
- the server's RSS and the database's size after 1 000 stateless runs, then 20 000 more.

Each latency is the median of `--samples` sequential requests. Writes a JSON and a markdown table
to bench/results/scale.{json,md}. Speed is measured here, never asserted in the tests.

    .venv/bin/python bench/scale.py [--threads 20000] [--database-url postgresql://...]
    .venv/bin/python bench/scale.py --reference bench/.refvenv   # the same against langgraph dev

With `--reference VENV` the server is the reference (`langgraph dev` of that venv, its in-memory
runtime, which it saves under `.langgraph_api/` in the app's folder): the database size is that
folder's, the RSS is the server's process tree's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT.parent / "shared" / "bench" / "app"
TRIVIAL = {"assistant_id": "trivial", "input": {"value": 1}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        i += 1
    return pids


def _rss_mb(pid: int) -> float:
    """The RSS of the server's process tree (the reference runs its server in a child)."""
    total = 0.0
    for p in _tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _sqlite_mb(path: Path) -> float:
    files = [path, Path(f"{path}-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 2**20


async def _postgres_mb(url: str) -> float:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT pg_database_size(current_database())")
        row = await cur.fetchone()
    return float(row[0]) / 2**20 if row else 0.0


async def _median_ms(c: httpx.AsyncClient, method: str, path: str, samples: int,
                     body: Any = None) -> float:  # fmt: skip
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        r = await c.request(method, path, json=body)
        r.raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def _in_parallel(n: int, make: Any, concurrency: int = 16) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await make(i)

    await asyncio.gather(*(one(i) for i in range(n)))


async def _thread_reads(c: httpx.AsyncClient, probe: str, samples: int) -> dict[str, float]:
    return {
        "search": await _median_ms(c, "POST", "/threads/search", samples, {"limit": 10}),
        "count": await _median_ms(c, "POST", "/threads/count", samples, {}),
        "get": await _median_ms(c, "GET", f"/threads/{probe}", samples),
        "state": await _median_ms(c, "GET", f"/threads/{probe}/state", samples),
    }


async def _run_reads(c: httpx.AsyncClient, tid: str, samples: int) -> dict[str, float]:
    return {
        "state": await _median_ms(c, "GET", f"/threads/{tid}/state", samples),
        "history": await _median_ms(c, "POST", f"/threads/{tid}/history", samples, {"limit": 10}),
        "runs": await _median_ms(c, "GET", f"/threads/{tid}/runs", samples),
    }


async def _measure(base: str, pid: int, args: argparse.Namespace, size: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:

        async def thread(_: int) -> None:
            tid = (await c.post("/threads", json={})).json()["thread_id"]
            await c.post(f"/threads/{tid}/runs/wait", json=TRIVIAL)

        probe = (await c.post("/threads", json={})).json()["thread_id"]
        await c.post(f"/threads/{probe}/runs/wait", json=TRIVIAL)
        await _in_parallel(args.small - 1, thread)
        small = await _thread_reads(c, probe, args.samples)
        await _in_parallel(args.threads - args.small, thread)
        large = await _thread_reads(c, probe, args.samples)
        out["threads"] = {"small": args.small, "large": args.threads, "at_small_ms": small,
                          "at_large_ms": large}  # fmt: skip

        busy = (await c.post("/threads", json={})).json()["thread_id"]
        for _ in range(5):
            await c.post(f"/threads/{busy}/runs/wait", json=TRIVIAL)
        few = await _run_reads(c, busy, args.samples)
        for _ in range(args.runs - 5):
            await c.post(f"/threads/{busy}/runs/wait", json=TRIVIAL)
        many = await _run_reads(c, busy, args.samples)
        out["runs_on_a_thread"] = {"few": 5, "many": args.runs, "at_few_ms": few,
                                   "at_many_ms": many}  # fmt: skip

        async def stateless(_: int) -> None:
            (await c.post("/runs/wait", json=TRIVIAL)).raise_for_status()

        await _in_parallel(1000, stateless)
        rss_1k, size_1k = _rss_mb(pid), await size()
        await _in_parallel(args.stateless, stateless)
        rss_more, size_more = _rss_mb(pid), await size()
        out["stateless"] = {"rss_mb": [rss_1k, rss_more], "database_mb": [size_1k, size_more],
                            "more_runs": args.stateless}  # fmt: skip
    return out


def _ratio(a: float, b: float) -> str:
    return f"{b / a:.2f}" if a else "-"


def _markdown(result: dict[str, Any]) -> str:
    t, r, s = result["threads"], result["runs_on_a_thread"], result["stateless"]
    lines = [
        f"# Cost as the data grows ({result['when']}, {result['backend']})", "",
        "| what | small | large | large / small (goal ≤ 1.5; RSS ≤ 1.15, file ≤ 1.2) |",
        "|---|---|---|---|",
    ]  # fmt: skip
    for key, a in t["at_small_ms"].items():
        b = t["at_large_ms"][key]
        lines.append(f"| thread {key} ms, {t['small']} → {t['large']} threads | {a:.2f} | "
                     f"{b:.2f} | {_ratio(a, b)} |")  # fmt: skip
    for key, a in r["at_few_ms"].items():
        b = r["at_many_ms"][key]
        lines.append(f"| {key} ms, {r['few']} → {r['many']} runs on a thread | {a:.2f} | "
                     f"{b:.2f} | {_ratio(a, b)} |")  # fmt: skip
    (ra, rb), (da, db) = s["rss_mb"], s["database_mb"]
    lines.append(f"| server RSS MB, 1 000 → +{s['more_runs']} stateless runs | {ra:.0f} | "
                 f"{rb:.0f} | {_ratio(ra, rb)} |")  # fmt: skip
    lines.append(f"| database MB, same | {da:.1f} | {db:.1f} | {_ratio(da, db)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=20_000)
    ap.add_argument("--small", type=int, default=200)
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--stateless", type=int, default=20_000)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reference", default=None, help="a venv with langgraph-cli[inmem]")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="graphport-scale-"))
    shutil.copytree(APP, work / "app")
    db_file = work / "scale.sqlite"
    url = args.database_url or str(db_file)
    port = _free_port()
    config = str(work / "app" / "langgraph.json")
    command = [str(Path(sys.executable).parent / "graphport"), "serve", "--config", config,
               "--port", str(port), "--database-url", url, "--log-level", "warning"]  # fmt: skip
    env = {**os.environ}
    if args.reference:
        command = [str(Path(args.reference).resolve() / "bin" / "langgraph"), "dev", "--no-browser",
                   "--no-reload", "--allow-blocking", "--host", "127.0.0.1", "--port", str(port),
                   "--config", config, "--n-jobs-per-worker", "4"]  # fmt: skip
        env |= {"LANGGRAPH_NO_VERSION_CHECK": "true", "LANGGRAPH_CLI_NO_ANALYTICS": "1",
                "LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(command, cwd=work / "app", env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/ok").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)

        async def size() -> float:
            if args.reference:
                return _folder_mb(work / "app" / ".langgraph_api")
            return await _postgres_mb(url) if args.database_url else _sqlite_mb(db_file)

        result = asyncio.run(_measure(base, server.pid, args, size))
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the reference's server is a child process
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    result["when"] = time.strftime("%Y-%m-%d")
    result["backend"] = "PostgreSQL" if args.database_url else "SQLite file"
    if args.reference:
        result["backend"] = "reference (langgraph dev, in memory)"
    Path(f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    Path(f"{args.out}.md").write_text(_markdown(result))
    sys.stdout.write(_markdown(result))


if __name__ == "__main__":
    main()
