"""Generative UI: `POST /ui/{graph_id}` answers the HTML that loads a graph's bundled components
(graphport.ui) into Agent Chat UI's `LoadExternalComponent`; `GET /ui/{graph_id}/{file}` serves
the bundles.

The HTML is the reference's: a `<script>` per bundle whose `onload` calls
`__LGUI_<graph id>.render(<component name>, "{{shadowRootId}}")` (the client fills in the shadow
root's id) and a `<link rel="stylesheet">` per CSS file. One difference: the asset URLs are
absolute (this server's scheme, host and mount prefix, as the JS server writes them), where the
Python reference writes `/ui/...`, which a page on another origin (Agent Chat UI on :3000) would
load from itself. And an assistant's id finds its graph's components (react-ui asks for
`/ui/{assistantId}` unless given a `namespace`); the reference knows graph ids only.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from graphport import errors
from graphport.api.bodies import json_body
from graphport.api.state import assistants_of, settings_of, ui_of

_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


async def component(request: Request) -> Response:
    """The HTML (script and stylesheet tags) that renders a graph's UI component"""
    graph_id = request.path_params["graph_id"]
    body = await json_body(request, settings_of(request).max_body_bytes)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise errors.ValidationFailed('the body must be {"name": "<component name>"}')
    bundles = ui_of(request)
    if graph_id not in bundles.assets:
        graph_id = await _graph_of_assistant(request, graph_id)
    if graph_id not in bundles.assets:
        missing = request.path_params["graph_id"]
        return PlainTextResponse(f"UI not found for graph '{missing}'", status_code=404)
    path = request.url.path
    base = f"{request.url.scheme}://{request.url.netloc}{path[: path.rindex('/ui/')]}"
    global_name = "__LGUI_" + re.sub(r"[^a-zA-Z0-9]", "_", graph_id)
    render_args = html.escape(json.dumps(name), quote=True)
    tags = []
    for asset in bundles.assets[graph_id]:
        url = html.escape(f"{base}/ui/{quote(graph_id, safe='')}/{quote(asset, safe='')}")
        if asset.endswith(".css"):
            tags.append(f'<link rel="stylesheet" href="{url}" />')
        elif asset.endswith(".js"):
            onload = f'{global_name}.render({render_args}, "{{{{shadowRootId}}}}")'
            tags.append(f"<script src=\"{url}\" onload='{onload}'></script>")
    return Response("\n".join(tags), media_type="text/html")


async def _graph_of_assistant(request: Request, assistant_id: str) -> str:
    """The graph id of the assistant with this id ("" when it is no assistant's)."""
    return await assistants_of(request).graph_id_of(assistant_id) or ""


async def asset(request: Request) -> Response:
    """A bundled file of a graph's UI components (JavaScript or CSS)"""
    graph_id, name = request.path_params["graph_id"], request.path_params["name"]
    file = ui_of(request).file(graph_id, name)
    if file is None or not file.is_file():
        raise HTTPException(404)
    media_type = _MEDIA_TYPES.get(file.suffix, "application/octet-stream")
    return FileResponse(file, media_type=media_type)
