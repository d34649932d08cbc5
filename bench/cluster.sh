#!/usr/bin/env bash
# Several processes on the shared harness, in one run: the reference (4 jobs), graphport on SQLite
# with one and two processes, and on PostgreSQL with one process, two processes (LISTEN/NOTIFY)
# and two processes with Redis. Extra arguments go to bench.py (default: --scenarios S1,S2,S3 --reps 2).
#   GRAPHPORT_BENCH_HARNESS, GRAPHPORT_REF_VENV as for run.sh; GRAPHPORT_BENCH_REDIS (redis URL)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
harness=${GRAPHPORT_BENCH_HARNESS:-$root/../shared/bench}
refvenv=${GRAPHPORT_REF_VENV:-$here/.refvenv}
redis=${GRAPHPORT_BENCH_REDIS:-redis://127.0.0.1:6379}
if [ ! -x "$refvenv/bin/langgraph" ]; then
    python3 -m venv "$refvenv"
    "$refvenv/bin/pip" install -q "langgraph-cli[inmem]"
fi
ref="LANGGRAPH_NO_VERSION_CHECK=true LANGGRAPH_CLI_NO_ANALYTICS=1 LOG_LEVEL=WARNING $refvenv/bin/langgraph dev --no-browser --no-reload --allow-blocking --host {host} --port {port} --config {config} --n-jobs-per-worker 4"
sqlite="$root/.venv/bin/graphport serve --host {host} --port {port} --config {config}"
pg="$here/pg-serve.sh --host {host} --port {port} --config {config}"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--scenarios S1,S2,S3 --reps 2)
cd "$harness"
exec python3 bench.py \
    --server "$ref" --name ref-best \
    --server "$sqlite" --name gp-sqlite \
    --server "$sqlite --workers 2" --name gp-sqlite-2 \
    --server "$pg" --name gp-pg-1 \
    --server "$pg --workers 2" --name gp-pg-2 \
    --server "$pg --workers 2 --redis-url $redis" --name gp-pg-2-redis \
    --out "$here/results/cluster" "${args[@]}"
