"""GET /console: the built-in web console, a single-page app shipped in the package.

The assets are built from console/ by scripts/build-console.sh into static/console/ (no node at
run time, no CDN). Every console path that is not an asset answers index.html, so that deep
links (/console/threads/<id>) load the app, which routes on the client. The page learns the
`http.mount_prefix` it is served under from what precedes /console in the request's path.
Not authenticated: a browser navigation cannot send a token; the page's API calls carry it.
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from graphport.api.responses import JSONResponse

_STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}
_MARKER = "<!--graphport-base-->"
# the file names never change between builds: ask browsers to revalidate after an upgrade
_HEADERS = {"Cache-Control": "no-cache"}


@functools.cache
def _assets() -> dict[str, tuple[bytes, str]]:
    """name -> (content, media type) of the built files, read once."""
    if not _STATIC.is_dir():
        return {}
    return {
        p.name: (p.read_bytes(), _TYPES.get(p.suffix, "application/octet-stream"))
        for p in _STATIC.iterdir()
        if p.is_file() and p.name != "index.html"
    }


@functools.cache
def _index() -> str | None:
    page = _STATIC / "index.html"
    return page.read_text(encoding="utf-8") if page.is_file() else None


def _not_found(detail: str = "Not Found") -> Response:
    return JSONResponse({"detail": detail}, status_code=404)


async def page(request: Request) -> Response:
    """The console: an asset by its name, or index.html for any page of the app."""
    path = str(request.path_params.get("path", ""))
    if path and "/" not in path and "." in path and path != "index.html":  # an asset or nothing
        asset = _assets().get(path)
        if asset is None:
            return _not_found()
        content, media_type = asset
        return Response(content, media_type=media_type, headers=_HEADERS)
    index = _index()
    if index is None:
        return _not_found("The console is not built: run scripts/build-console.sh")
    # /api/console/threads/x -> /api: the prefix the app and its API calls live under
    base = request.url.path.removesuffix(path).removesuffix("/").removesuffix("/console")
    # "</" in the prefix must not end the script early: json.dumps leaves "/" alone
    script_value = json.dumps(base).replace("</", "<\\/")
    head = (
        f'<base href="{html.escape(base, quote=True)}/console/">'
        f"<script>window.GRAPHPORT_BASE={script_value};</script>"
    )
    return Response(index.replace(_MARKER, head, 1), media_type="text/html", headers=_HEADERS)
