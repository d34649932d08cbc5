"""PostgreSQL statements per run (issue 15, goal 3): what one `/runs/wait` costs the database.

Starts one graphport server on a fresh PostgreSQL database whose statements the server logs
(`ALTER DATABASE ... SET log_statement = 'all'`), runs a few runs to warm up, then `--runs`
sequential stateless runs and as many runs on one kept thread (S7's case), and counts the
statements each run sent, by kind, from PostgreSQL's log. Every statement is one round trip
(psycopg sends each and waits for its answer; BEGIN and COMMIT included). Background work
(heartbeats, claims, the cron scheduler) is counted over an idle stretch of the same length and
subtracted. Counts are exact, so the machine need not be quiet.

    .venv/bin/python bench/roundtrips.py [--log /var/log/postgresql/postgresql-15-main.log]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT.parent / "shared" / "bench" / "app"
TRIVIAL = {"assistant_id": "trivial", "input": {"value": 1}}
DATABASE = "graphport_roundtrips"
ENTRY = re.compile(r"^\d{4}-\d\d-\d\d ")  # a log entry's first line; others continue it
STATEMENT = re.compile(r"@(\S+) LOG:  (?:statement|execute [^:]*): (.*)", re.S)
KINDS = [  # first match wins
    ("begin/commit", re.compile(r"^(BEGIN|COMMIT|ROLLBACK)\b", re.I)),
    ("notify/listen", re.compile(r"\b(NOTIFY|LISTEN|pg_notify|UNLISTEN)\b", re.I)),
    ("checkpointer", re.compile(r"\bcheckpoint(s|_writes|_blobs)\b")),
    ("assistants", re.compile(r"^SELECT\b.*\bFROM assistants\b", re.S)),  # not a run's guard
    ("threads", re.compile(r"\b(INTO|UPDATE|FROM) threads\b")),
    ("runs", re.compile(r"\b(INTO|UPDATE|FROM) runs\b")),
    ("workers", re.compile(r"\bworkers\b")),
]


def _kind(sql: str) -> str:
    for name, pattern in KINDS:
        if pattern.search(sql):
            return name
    return "other"


def _psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True)


def _statements(log: Path, start: int) -> Counter[str]:
    with log.open("rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    entries: list[str] = []
    for line in text.splitlines():
        if ENTRY.match(line) or not entries:
            entries.append(line)
        else:
            entries[-1] += "\n" + line
    counts: Counter[str] = Counter()
    for entry in entries:
        m = STATEMENT.search(entry)
        if m and m.group(1) == DATABASE:
            counts[_kind(m.group(2))] += 1
    return counts


def _measure(base: str, log: Path, runs: int, path: str, body: dict[str, Any]) -> Counter[str]:
    with httpx.Client(base_url=base, timeout=30) as c:
        start = log.stat().st_size
        began = time.monotonic()
        for _ in range(runs):
            c.post(path, json=body).raise_for_status()
        elapsed = time.monotonic() - began
        time.sleep(1.0)  # the log is written asynchronously
        busy = _statements(log, start)
        start = log.stat().st_size
        time.sleep(elapsed)  # the same stretch, idle: background statements
        idle = _statements(log, start)
    return busy - idle


def _table(counts: Counter[str], runs: int) -> list[str]:
    kinds = [k for k, _ in KINDS] + ["other"]
    return [f"| {k} | {counts[k] / runs:.1f} |" for k in kinds if counts[k]] + [
        f"| **all** | **{sum(counts.values()) / runs:.1f}** |"
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", default="/var/log/postgresql/postgresql-15-main.log")
    ap.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "roundtrips"))
    args = ap.parse_args()
    admin = f"{args.server}/postgres"
    _psql(admin, f"DROP DATABASE IF EXISTS {DATABASE}")
    _psql(admin, f"CREATE DATABASE {DATABASE}")
    _psql(admin, f"ALTER DATABASE {DATABASE} SET log_statement = 'all'")
    work = Path(tempfile.mkdtemp(prefix="graphport-roundtrips-"))
    shutil.copytree(APP, work / "app")
    port = 8400 + os.getpid() % 500
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "graphport"), "serve", "--config",
         str(work / "app" / "langgraph.json"), "--port", str(port), "--database-url",
         f"{args.server}/{DATABASE}", "--log-level", "warning"],
        cwd=work / "app",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    log = Path(args.log)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/ok").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        thread = httpx.post(f"{base}/threads", json={}).json()["thread_id"]
        for _ in range(5):  # warm up: prepared statements, pooled connections
            httpx.post(f"{base}/runs/wait", json=TRIVIAL).raise_for_status()
            httpx.post(f"{base}/threads/{thread}/runs/wait", json=TRIVIAL).raise_for_status()
        stateless = _measure(base, log, args.runs, "/runs/wait", TRIVIAL)
        kept = _measure(base, log, args.runs, f"/threads/{thread}/runs/wait", TRIVIAL)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)
        _psql(admin, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    result = {
        "when": time.strftime("%Y-%m-%d"),
        "runs": args.runs,
        "stateless": {k: v / args.runs for k, v in stateless.items()},
        "thread_keep": {k: v / args.runs for k, v in kept.items()},
    }
    md = [
        f"# PostgreSQL statements per run ({result['when']}, {args.runs} sequential runs each)",
        "",
        "Every statement is one round trip. `POST /runs/wait` (stateless):",
        "",
        "| kind | per run |",
        "|---|---|",
        *_table(stateless, args.runs),
        "",
        "`POST /threads/{id}/runs/wait` on a kept thread (S7):",
        "",
        "| kind | per run |",
        "|---|---|",
        *_table(kept, args.runs),
        "",
    ]
    Path(f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    Path(f"{args.out}.md").write_text("\n".join(md))
    sys.stdout.write("\n".join(md))


if __name__ == "__main__":
    main()
