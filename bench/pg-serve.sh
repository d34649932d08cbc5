#!/usr/bin/env bash
# `graphport serve` on a fresh PostgreSQL database (for bench/cluster.sh): drops and creates
# $GRAPHPORT_BENCH_DB (default graphport_bench) on GRAPHPORT_BENCH_POSTGRES, then serves with
# the remaining arguments (e.g. --workers 2, --redis-url ...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pg=${GRAPHPORT_BENCH_POSTGRES:-postgresql://postgres@127.0.0.1:5432}
db=${GRAPHPORT_BENCH_DB:-graphport_bench}
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
exec "$here/../.venv/bin/graphport" serve --database-url "$pg/$db" "$@"
