"""/ok and /info."""

from __future__ import annotations

import langgraph.version
from starlette.requests import Request
from starlette.responses import Response

from graphport import API_VERSION, __version__
from graphport.api.responses import JSONResponse, error_response
from graphport.api.state import engine_of

_OK = b'{"ok":true,"services":{}}'


async def ok(request: Request) -> Response:
    """`?check_db=1` also makes a round trip to the database: 503 when it is unreachable."""
    if request.query_params.get("check_db", "").lower() in ("1", "true", "yes"):
        try:
            await engine_of(request).check_storage()
        except Exception as exc:
            detail = f"storage unreachable: {type(exc).__name__}: {exc}"
            return error_response(503, detail.splitlines()[0])
    return Response(_OK, media_type="application/json")


async def ok_bare(request: Request) -> Response:
    """/ok when `http.disable_meta` is set."""
    return Response(b'{"ok":true}', media_type="application/json")


async def info(request: Request) -> Response:
    return JSONResponse(
        {
            "version": API_VERSION,
            "graphport_version": __version__,
            "langgraph_py_version": langgraph.version.__version__,
            "flags": {
                "assistants": True,
                "crons": True,
                "langsmith": False,
                "langsmith_tracing_replicas": False,
                "langsmith_tracing_session_on_runs": False,
            },
            "host": {
                "kind": "self-hosted",
                "project_id": None,
                "host_revision_id": None,
                "revision_id": None,
                "tenant_id": None,
            },
        }
    )
