"""Python calls per run, by whose code makes them: the floor against graphport (issue 15).

CPU time in a profile of an asyncio server is hard to compare (cProfile slows small calls most,
py-spy's samples lean towards whichever thread holds the GIL), but the number of calls is
exact. Give each server's cProfile under load and idle (start-up only, to subtract imports),
with the number of runs it served; a call of a builtin counts for the code that made it.

    python -m cProfile -o load.prof -m graphport serve ...   # wrk for a while, then SIGINT
    python -m cProfile -o idle.prof -m graphport serve ...   # one run, then SIGINT
    .venv/bin/python bench/calls_per_run.py floor-load.prof floor-idle.prof 7205 \\
        graphport-load.prof graphport-idle.prof 4629 [--functions]
"""

from __future__ import annotations

import argparse
import pstats
from collections import Counter

OWNERS = [  # a path fragment, and whose code it is; first match wins
    ("/graphport/", "graphport"),
    ("langgraph", "langgraph"),
    ("langchain_core", "langchain-core"),
    ("langsmith", "langchain-core"),
    ("starlette", "starlette"),
    ("uvicorn", "uvicorn"),
    ("prometheus_client", "prometheus-client"),
    ("/logging/", "logging"),
    ("/asyncio/", "asyncio"),
    ("psycopg", "psycopg"),
]


def _owner(path: str) -> str:
    return next((name for part, name in OWNERS if part in path), "stdlib/other")


def _function(path: str, name: str) -> str | None:
    return path.split("/graphport/")[1] + ":" + name if "/graphport/" in path else None


def calls(profile: str, key: str) -> Counter[str]:
    """Calls by owner (`key="owner"`) or by graphport function (`key="function"`)."""
    counts: Counter[str] = Counter()
    for (path, _, name), (_, ncalls, _, _, callers) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        made_by = [((path, name), ncalls)] if path != "~" else [
            ((cpath, cname), c[0]) for (cpath, _, cname), c in callers.items()
        ]  # fmt: skip
        for (cpath, cname), n in made_by:
            label = _owner(cpath) if key == "owner" else _function(cpath, cname)
            if label is not None:
                counts[label] += n
    return counts


def per_run(load: str, idle: str, runs: int, key: str) -> dict[str, float]:
    busy, start = calls(load, key), calls(idle, key)
    return {k: (busy[k] - start[k]) / runs for k in busy}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("floor_load")
    ap.add_argument("floor_idle")
    ap.add_argument("floor_runs", type=int)
    ap.add_argument("graphport_load")
    ap.add_argument("graphport_idle")
    ap.add_argument("graphport_runs", type=int)
    ap.add_argument("--functions", action="store_true", help="graphport's own functions too")
    a = ap.parse_args()
    floor = per_run(a.floor_load, a.floor_idle, a.floor_runs, "owner")
    ours = per_run(a.graphport_load, a.graphport_idle, a.graphport_runs, "owner")
    print("| calls per run, by whose code makes them | floor | graphport | difference |")
    print("|---|---|---|---|")
    for k in sorted(set(floor) | set(ours), key=lambda k: floor.get(k, 0) - ours.get(k, 0)):
        f, g = floor.get(k, 0.0), ours.get(k, 0.0)
        print(f"| {k} | {f:.0f} | {g:.0f} | {g - f:+.0f} |")
    f, g = sum(floor.values()), sum(ours.values())
    print(f"| **all** | **{f:.0f}** | **{g:.0f}** | **{g - f:+.0f}** |")
    if a.functions:
        own = per_run(a.graphport_load, a.graphport_idle, a.graphport_runs, "function")
        print("\n| graphport function | calls per run (its own and the builtins it calls) |")
        print("|---|---|")
        for k, v in sorted(own.items(), key=lambda x: -x[1])[:25]:
            print(f"| `{k}` | {v:.0f} |")


if __name__ == "__main__":
    main()
