#!/usr/bin/env bash
# serve.sh CONFIG HOST PORT: graphport on the harness's langgraph.json plus an `auth` block
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
config=$1 host=$2 port=$3
with_auth="$(dirname "$config")/langgraph-auth.json"
python3 - "$config" "$with_auth" "$here/trivial_auth.py:auth" <<'PY'
import json, sys
raw = json.load(open(sys.argv[1]))
raw["auth"] = {"path": sys.argv[3]}
json.dump(raw, open(sys.argv[2], "w"))
PY
exec "$here/../../.venv/bin/graphport" serve --host "$host" --port "$port" --config "$with_auth"
