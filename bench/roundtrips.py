"""PostgreSQL statements per run (issue 15, goal 3): what one `/runs/wait` costs the database.

Starts one graphport server on a fresh PostgreSQL database whose statements the server logs
(`ALTER DATABASE ... SET log_statement = 'all'`), runs a few runs to warm up, then `--runs`
sequential stateless runs and as many runs on one kept thread (S7's case), and counts the
statements each run sent, by kind, from PostgreSQL's log, and (with strace installed, the
server running under it) the round trips: a statement outside a transaction is one, and the
statements of a transaction are sent in a pipeline that waits only where its flow reads an
answer (storage/postgres/connection.py). Background work
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
import signal
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


SENDTO = re.compile(r'^\d+\s+([\d.]+) sendto\(\d+, "((?:\\x[0-9a-f]{2})*)", \d+, ')


def _waits(trace: Path, since: float, until: float) -> int:
    """Round trips the server's processes made to PostgreSQL between two times (`time.time()`),
    from strace's record of what they sent: the client waits for an answer after each
    Sync message of the extended protocol and each simple Query, and at no other point; the
    messages between two Syncs (a pipeline) share one round trip."""
    count = 0
    for line in trace.read_text().splitlines():
        m = SENDTO.match(line)
        if m is None:
            continue
        if not since <= float(m.group(1)) < until:
            continue
        data = bytes.fromhex(m.group(2).replace("\\x", ""))
        at = 0
        while at + 5 <= len(data):  # type byte, then a length that counts itself
            kind, size = data[at], int.from_bytes(data[at + 1 : at + 5], "big")
            count += kind in (0x53, 0x51)  # Sync, Query
            at += 1 + size
    return count


def _measure(
    base: str, log: Path, trace: Path | None, runs: int, path: str, body: dict[str, Any]
) -> tuple[Counter[str], float | None]:
    """(statements by kind, round trips) of `runs` sequential runs, background subtracted."""
    with httpx.Client(base_url=base, timeout=30) as c:
        start, began = log.stat().st_size, time.monotonic()
        busy_from = time.time()
        for _ in range(runs):
            c.post(path, json=body).raise_for_status()
        busy_to = time.time()
        elapsed = time.monotonic() - began
        time.sleep(1.0)  # the log is written asynchronously
        busy = _statements(log, start)
        start = log.stat().st_size
        idle_from = time.time()
        time.sleep(elapsed)  # the same stretch, idle: background statements
        idle = _statements(log, start)
        idle_to = time.time()
    if trace is None:
        return busy - idle, None
    time.sleep(0.5)  # strace writes its record as it goes
    waits = _waits(trace, busy_from, busy_to) - _waits(trace, idle_from, idle_to)
    return busy - idle, waits


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
    command = [
        str(Path(sys.executable).parent / "graphport"), "serve", "--config",
        str(work / "app" / "langgraph.json"), "--port", str(port), "--database-url",
        f"{args.server}/{DATABASE}", "--log-level", "warning",
    ]  # fmt: skip
    trace = work / "sendto.trace" if shutil.which("strace") else None
    if trace is not None:  # what the server sends, to count its round trips (`_waits`)
        command = ["strace", "-f", "-qq", "-ttt", "-xx", "-s", "1000000", "-e", "trace=sendto",
                   "-e", "signal=none", "-o", str(trace), *command]  # fmt: skip
    server = subprocess.Popen(command, cwd=work / "app", start_new_session=True)
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
        stateless, stateless_waits = _measure(base, log, trace, args.runs, "/runs/wait", TRIVIAL)
        kept, kept_waits = _measure(
            base, log, trace, args.runs, f"/threads/{thread}/runs/wait", TRIVIAL
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # graphport too, not only strace
        server.wait(60)
        shutil.rmtree(work, ignore_errors=True)
        _psql(admin, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    result = {
        "when": time.strftime("%Y-%m-%d"),
        "runs": args.runs,
        "stateless": {k: v / args.runs for k, v in stateless.items()},
        "thread_keep": {k: v / args.runs for k, v in kept.items()},
        "round_trips": None
        if stateless_waits is None or kept_waits is None
        else {"stateless": stateless_waits / args.runs, "thread_keep": kept_waits / args.runs},
    }
    trips = result["round_trips"]
    md = [
        f"# PostgreSQL statements per run ({result['when']}, {args.runs} sequential runs each)",
        "",
        "Statements by kind, from PostgreSQL's statement log. `POST /runs/wait` (stateless):",
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
        "Round trips per run (the server's Sync and Query messages, counted with strace;"
        " statements sent together in a pipeline share one):"
        + (
            f" stateless {trips['stateless']:.1f}, kept thread {trips['thread_keep']:.1f}."
            if trips
            else " not counted (no strace)."
        ),
        "",
    ]
    Path(f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    Path(f"{args.out}.md").write_text("\n".join(md))
    sys.stdout.write("\n".join(md))


if __name__ == "__main__":
    main()
