#!/usr/bin/env bash
# graphport beside the reference server (`langgraph dev`) on the shared benchmark harness, in one
# run (alternating A B A B). Extra arguments go to bench.py, e.g. `--scenarios S1,S2 --reps 1`.
#   GRAPHPORT_BENCH_HARNESS  the harness folder (default ../shared/bench beside the repo)
#   GRAPHPORT_REF_VENV       a venv with langgraph-cli[inmem] (created under bench/ if missing)
#   GRAPHPORT_BENCH_NAME     output name under bench/results/ (default: vs-reference)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
harness=${GRAPHPORT_BENCH_HARNESS:-$root/../shared/bench}
refvenv=${GRAPHPORT_REF_VENV:-$here/.refvenv}
name=${GRAPHPORT_BENCH_NAME:-vs-reference}
if [ ! -x "$refvenv/bin/langgraph" ]; then
    python3 -m venv "$refvenv"
    "$refvenv/bin/pip" install -q "langgraph-cli[inmem]"
fi
command -v wrk >/dev/null || echo "wrk not found: the harness falls back to its Python client" >&2
ref="LANGGRAPH_NO_VERSION_CHECK=true LANGGRAPH_CLI_NO_ANALYTICS=1 LOG_LEVEL=WARNING $refvenv/bin/langgraph dev --no-browser --no-reload --allow-blocking --host {host} --port {port} --config {config} --n-jobs-per-worker 4"
ours="$root/.venv/bin/graphport serve --host {host} --port {port} --config {config}"
cd "$harness"
exec python3 bench.py --vs "$ref" "$ours" --names ref-best,graphport --out "$here/results/$name" "$@"
