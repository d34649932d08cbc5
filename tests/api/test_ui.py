"""Generative UI: langgraph.json's `ui` block bundled at start, `POST /ui/{graph_id}` and the
bundles it points at (tests/graphs/langgraph-ui.json, tests/graphs/ui/)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import ROOT, Server, start_server

GRAPHS = ROOT / "tests" / "graphs"
NODE = shutil.which("node") and shutil.which("npm")
needs_node = pytest.mark.skipif(
    not NODE, reason="node and npm are not on PATH: the `ui` block cannot be bundled"
)


def _project(tmp: Path, **overrides: object) -> Path:
    """A copy of the ui test project in `tmp` (its data folder, .graphport/, lands there)."""
    shutil.copy(GRAPHS / "graphs.py", tmp / "graphs.py")
    shutil.copytree(GRAPHS / "ui", tmp / "ui")
    config = {**orjson.loads((GRAPHS / "langgraph-ui.json").read_bytes()), **overrides}
    (tmp / "langgraph.json").write_bytes(orjson.dumps(config))
    return tmp / "langgraph.json"


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory, server: Server) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    if not NODE:
        pytest.skip("node and npm are not on PATH: the `ui` block cannot be bundled")
    tmp = tmp_path_factory.mktemp("ui")
    srv = start_server(tmp, config=_project(tmp))
    yield srv
    srv.stop()


def _src(fragment: str, tag: str, attribute: str) -> list[str]:
    return re.findall(rf'<{tag} [^>]*{attribute}="([^"]+)"', fragment)


@needs_node
def test_post_ui_answers_the_tags_that_load_the_bundle(ui_server: Server) -> None:
    """POST /ui/{graph_id} {"name": ...}: 200 text/html, a <script> of the graph's bundle whose
    onload renders the named component into the shadow root the client names, then a
    <link rel="stylesheet"> of its CSS (the reference's fragment; URLs absolute)."""
    with httpx.Client(base_url=ui_server.url, timeout=30) as c:
        r = c.post("/ui/echo", json={"name": "greeting"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    script, link = r.text.split("\n")
    assert script == (
        f'<script src="{ui_server.url}/ui/echo/entrypoint.js" '
        """onload='__LGUI_echo.render(&quot;greeting&quot;, "{{shadowRootId}}")'></script>"""
    )
    assert link == f'<link rel="stylesheet" href="{ui_server.url}/ui/echo/entrypoint.css" />'


@needs_node
def test_a_graph_id_that_is_no_javascript_name_gets_a_safe_global(ui_server: Server) -> None:
    """The bundle's global is __LGUI_ + the graph id with every non-alphanumeric character made
    `_`; a file importing no CSS gets no <link>."""
    with httpx.Client(base_url=ui_server.url, timeout=30) as c:
        r = c.post("/ui/my-agent", json={"name": "card"})
        assert r.status_code == 200
        assert "__LGUI_my_agent.render(&quot;card&quot;" in r.text
        assert _src(r.text, "link", "href") == []
        (js,) = _src(r.text, "script", "src")
        bundle = c.get(js)
    assert bundle.status_code == 200
    assert bundle.text.startswith("var __LGUI_my_agent = ")


@needs_node
def test_the_asset_routes_serve_the_bundles(ui_server: Server) -> None:
    """GET /ui/{graph_id}/{file}: the bundled JS (text/javascript) that takes React from the
    page (LGUI_REQUIRE) and hands components to its store (LGUI_EXT_STORE), and the CSS
    (text/css); an ETag; anything else 404 {"detail": "Not Found"}."""
    with httpx.Client(base_url=ui_server.url, timeout=30) as c:
        js = c.get("/ui/echo/entrypoint.js")
        css = c.get("/ui/echo/entrypoint.css")
        missing = [
            c.get("/ui/echo/nothing.js"),
            c.get("/ui/nope/entrypoint.js"),
            c.get("/ui/echo/..%2F..%2Fassets.json"),
        ]
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.headers["etag"]
    assert 'Symbol.for("LGUI_REQUIRE")' in js.text and 'Symbol.for("LGUI_EXT_STORE")' in js.text
    assert "Hello, " in js.text and "useState" in js.text
    for module in ("react", "react/jsx-runtime"):  # the page's, not bundled
        assert f'Symbol.for("LGUI_REQUIRE")]("{module}")' in js.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "rgb(0, 128, 0)" in css.text
    for r in missing:
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


@needs_node
def test_unknown_graph_and_bad_bodies(ui_server: Server) -> None:
    """A graph id without a `ui` entry: 404, text "UI not found for graph '<id>'" (the
    reference's answer); a body without a string `name`: 422 (the reference fails with 500)."""
    with httpx.Client(base_url=ui_server.url, timeout=30) as c:
        unknown = c.post("/ui/nope", json={"name": "greeting"})
        assert (unknown.status_code, unknown.text) == (404, "UI not found for graph 'nope'")
        for body in ({}, {"name": 3}, []):
            assert c.post("/ui/echo", json=body).status_code == 422


def test_disable_ui_serves_no_ui(tmp_path: Path, server: Server) -> None:
    """http.disable_ui: true: no /ui routes (404) and nothing bundled, so no node needed."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    config = _project(tmp_path, http={"disable_ui": True})
    srv = start_server(tmp_path, config=config, extra_env={"PATH": "/nonexistent"})
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert c.post("/ui/echo", json={"name": "greeting"}).status_code == 404
            assert c.get("/ui/echo/entrypoint.js").status_code == 404
    finally:
        srv.stop()
    assert not (tmp_path / ".graphport" / "ui").exists()


def test_without_node_the_server_refuses_to_start(tmp_path: Path, server: Server) -> None:
    """A `ui` block and no node on PATH: `graphport serve` exits with one line naming what is
    missing and the way out."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    with pytest.raises(RuntimeError) as info:
        start_server(tmp_path, config=_project(tmp_path), extra_env={"PATH": "/nonexistent"})
    assert "exited with 1" in str(info.value)
    assert (
        "langgraph.json 'ui' needs Node.js and npm to bundle its components, and 'node' is not "
        "on PATH: install Node.js (https://nodejs.org), or set http.disable_ui: true"
    ) in str(info.value)


@needs_node
def test_a_component_that_does_not_compile_stops_the_start(tmp_path: Path, server: Server) -> None:
    """esbuild's error, with file and line, stops the start."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    config = _project(tmp_path)
    (tmp_path / "ui" / "plain.jsx").write_text("export default { card: () => <p>unclosed };\n")
    with pytest.raises(RuntimeError) as info:
        start_server(tmp_path, config=config)
    assert "ui: bundling the 'ui' components failed:" in str(info.value)
    assert "ui/plain.jsx:2:0: Unexpected end of file" in str(info.value)


@needs_node
def test_under_a_mount_prefix_the_urls_carry_it(tmp_path: Path, server: Server) -> None:
    """http.mount_prefix: the /ui routes and the asset URLs of the fragment are under it."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    srv = start_server(tmp_path, config=_project(tmp_path, http={"mount_prefix": "/api"}))
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post("/api/ui/echo", json={"name": "greeting"})
            assert _src(r.text, "script", "src") == [f"{srv.url}/api/ui/echo/entrypoint.js"]
            assert _src(r.text, "link", "href") == [f"{srv.url}/api/ui/echo/entrypoint.css"]
            assert c.get("/api/ui/echo/entrypoint.js").status_code == 200
    finally:
        srv.stop()


@needs_node
def test_an_assistant_id_finds_its_graphs_components(ui_server: Server) -> None:
    """POST /ui/{assistant_id} answers the components of the assistant's graph (react-ui asks
    with the stream's assistant id); an unknown UUID is a 404 like an unknown graph id."""
    with httpx.Client(base_url=ui_server.url, timeout=30) as c:
        created = c.post("/assistants", json={"graph_id": "my-agent", "name": "cards"})
        assistant_id = created.json()["assistant_id"]
        r = c.post(f"/ui/{assistant_id}", json={"name": "card"})
        assert r.status_code == 200
        assert _src(r.text, "script", "src") == [f"{ui_server.url}/ui/my-agent/entrypoint.js"]
        assert "__LGUI_my_agent.render(" in r.text
        unknown = "00000000-0000-4000-8000-000000000000"
        r = c.post(f"/ui/{unknown}", json={"name": "card"})
        assert (r.status_code, r.text) == (404, f"UI not found for graph '{unknown}'")


@needs_node
def test_tailwind_classes_in_use_become_the_stylesheet(tmp_path: Path, server: Server) -> None:
    """A stylesheet with `@import "tailwindcss"` (tailwindcss in the project's node_modules, as
    Agent Chat UI's examples have it) gets the utilities the components use."""
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    config = _project(tmp_path)
    (tmp_path / "package.json").write_text('{"private": true}')
    npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "tailwindcss@4.3.5"]
    subprocess.run(npm, cwd=tmp_path, check=True, capture_output=True, timeout=300)
    (tmp_path / "ui" / "echo.css").write_text('@import "tailwindcss";\n')
    tsx = tmp_path / "ui" / "echo.tsx"
    tsx.write_text(tsx.read_text().replace('className="greeting"', 'className="font-bold"'))
    srv = start_server(tmp_path, config=config)
    try:
        css = httpx.get(f"{srv.url}/ui/echo/entrypoint.css", timeout=30)
    finally:
        srv.stop()
    assert css.status_code == 200
    assert ".font-bold" in css.text and ".text-lg" not in css.text  # only the classes in use
