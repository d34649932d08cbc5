#!/usr/bin/env bash
# Build the web console (console/, Vite + Preact) into src/graphport/static/console/, the files
# the package ships and graphport serves at /console: index.html, console.js, console.css.
# Run it after changing console/ and commit its output (no node is needed at run time).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/src/graphport/static/console"
cd "$root/console"
npm ci --no-audit --no-fund --loglevel=error
CONSOLE_OUT_DIR="$out" npx --no-install vite build --logLevel warn
echo "console built into ${out#"$root"/}: $(cd "$out" && ls | tr '\n' ' ')"
