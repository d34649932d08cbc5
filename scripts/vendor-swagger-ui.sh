#!/usr/bin/env bash
# Vendor Swagger UI (Apache-2.0) for GET /docs: the explorer's assets ship in the package, so it
# works offline. Fetches the swagger-ui-dist npm package and copies its dist files.
set -euo pipefail
VERSION="${1:-5}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/src/graphport/static/swagger-ui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
mkdir -p "$DEST"
cp "$WORK/package/swagger-ui-bundle.js" "$WORK/package/swagger-ui.css" "$WORK/package/LICENSE" "$DEST/"
node -e "console.log(require('$WORK/package/package.json').version)" > "$DEST/VERSION"
echo "swagger-ui-dist $(cat "$DEST/VERSION") -> $DEST"
