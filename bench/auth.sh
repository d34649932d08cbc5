#!/usr/bin/env bash
# graphport with a trivial custom auth (bench/auth/trivial_auth.py) beside the same build without
# auth, alternating, on the shared harness (S2 by default). Extra arguments go to bench.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
harness=${GRAPHPORT_BENCH_HARNESS:-$root/../shared/bench}
ours="$root/.venv/bin/graphport serve --host {host} --port {port} --config {config}"
with_auth="$here/auth/serve.sh {config} {host} {port}"
cd "$harness"
exec python3 bench.py --vs "$ours" "$with_auth" --names graphport,graphport-auth \
    --scenarios S2 --reps 3 --out "$here/results/auth-vs-none" "$@"
