"""GET /openapi.json: a valid OpenAPI 3.1 document of the routes served, a FastAPI app's merged."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from tests.api.test_http_app import GRAPHS, own_server, serve_app
from tests.conftest import Server

__all__ = ["own_server"]


def test_openapi_document_is_valid_and_lists_the_routes(http: httpx.Client, server: Server) -> None:
    spec = http.get("/openapi.json").json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    wait = spec["paths"]["/runs/wait"]["post"]
    schema = wait["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RunCreateStateless"}
    assert "assistant_id" in spec["components"]["schemas"]["RunCreateStateless"]["properties"]
    assert "get" in spec["paths"]["/threads/{thread_id}"]


def test_fastapi_routes_merged_and_disabled_routes_left_out(
    tmp_path: Path, own_server: None
) -> None:
    srv = serve_app(
        tmp_path,
        {"app": f"{GRAPHS}/webapps.py:fastapi_app", "mount_prefix": "/p", "disable_store": True},
    )
    try:
        spec = httpx.get(srv.url + "/p/openapi.json", timeout=30).json()
    finally:
        srv.stop()
    validate(spec)
    assert "Order" in spec["components"]["schemas"]
    assert "requestBody" in spec["paths"]["/p/orders"]["post"]
    assert "/p/runs/wait" in spec["paths"]
    assert not any("/store/" in path for path in spec["paths"])


def test_docs_page_and_its_assets_are_served_locally(http: httpx.Client, server: Server) -> None:
    if server.process is None:
        pytest.skip("graphport's own explorer page")
    page = http.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    js = http.get("/docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert http.get("/docs/swagger-ui.css").status_code == 200
    assert http.get("/docs/LICENSE").status_code == 404
