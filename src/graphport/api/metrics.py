"""GET /metrics: Prometheus text, or the reference's JSON with `?format=json` (see
graphport.metrics). Open, as the reference's: no authentication."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from graphport.api.responses import JSONResponse
from graphport.api.state import engine_of, metrics_of
from graphport.metrics import queue_stats

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


async def metrics(request: Request) -> Response:
    """Prometheus metrics (text), or JSON with `?format=json`."""
    queue = queue_stats(await engine_of(request).queue())
    scraped = metrics_of(request)
    if request.query_params.get("format") == "json":
        return JSONResponse(scraped.json(queue))
    return Response(scraped.text(queue), media_type=PROMETHEUS_TEXT)
