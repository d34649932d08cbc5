"""Generative UI in a browser: the SDK's LoadExternalComponent (as Agent Chat UI uses it), on a
page of another origin, renders a component graphport bundled, with its stylesheet and the
page's React (headless Debian chromium driven by Playwright; no browser download)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_ui import GRAPHS, NODE, _project
from tests.conftest import Server, start_server

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def page_and_server(
    tmp_path_factory: pytest.TempPathFactory, server: Server
) -> Iterator[tuple[str, Server]]:
    if server.process is None:
        pytest.skip("needs a graphport server with its own langgraph.json")
    if not NODE:
        pytest.skip("node and npm are not on PATH: the `ui` block cannot be bundled")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright", reason="playwright (Python) is not installed")
    tmp = tmp_path_factory.mktemp("ui_browser")
    srv = start_server(tmp, config=_project(tmp))
    host = tmp / "host"
    shutil.copytree(GRAPHS / "ui_host", host)
    npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run(npm, cwd=host, check=True, capture_output=True, timeout=300)
    esbuild = tmp / ".graphport" / "ui" / "build" / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [str(esbuild), "host.jsx", "--bundle", "--format=iife", "--jsx=automatic",
         "--define:process.env.NODE_ENV=\"production\"", "--outfile=host.js", "--log-level=error"],
        cwd=host, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    yield (host / "host.js").read_text(), srv
    srv.stop()


def _render(script: str, url: str, graph_id: str, component: str, shot: Path) -> dict[str, str]:
    from playwright.sync_api import sync_playwright

    html = (
        '<!doctype html><html><body><div id="root"></div><script>'
        f'window.API_URL="{url}"; window.GRAPH_ID="{graph_id}"; window.COMPONENT="{component}";'
        f"</script><script>{script}</script></body></html>"
    )
    page_url = "http://127.0.0.1:9/"  # another origin than the server's; the route answers it
    errors: list[str] = []
    with sync_playwright() as p:
        # Chromium's local-network checks would refuse a page's fetch to 127.0.0.1
        args = ["--no-sandbox", "--disable-features=LocalNetworkAccessChecks"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route(page_url, lambda r: r.fulfill(body=html, content_type="text/html"))
            page.goto(page_url)
            seen: dict[str, str] = {}
            if component == "greeting":
                greeting = page.get_by_test_id("greeting")
                greeting.wait_for(timeout=30_000)
                seen["text"] = greeting.text_content() or ""
                seen["color"] = greeting.evaluate("e => getComputedStyle(e).color")
                page.get_by_role("button").click()
                page.get_by_role("button", name="clicked 1").wait_for(timeout=30_000)
                seen["button"] = page.get_by_role("button").text_content() or ""
            else:
                card = page.get_by_test_id("card")
                card.wait_for(timeout=30_000)
                seen["text"] = card.text_content() or ""
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert errors == []
    return seen


def test_a_component_renders_with_its_css_and_state(
    page_and_server: tuple[str, Server], tmp_path: Path
) -> None:
    """The component appears in the shadow root with its props, its stylesheet applies, and a
    click updates its state (the bundle runs on the page's React)."""
    script, srv = page_and_server
    seen = _render(script, srv.url, "echo", "greeting", tmp_path / "greeting.png")
    assert seen == {"text": "Hello, graphport!", "color": "rgb(0, 128, 0)", "button": "clicked 1"}


def test_a_graph_id_with_a_dash_renders(
    page_and_server: tuple[str, Server], tmp_path: Path
) -> None:
    """`my-agent`'s bundle (global __LGUI_my_agent) renders its `card` component."""
    script, srv = page_and_server
    seen = _render(script, srv.url, "my-agent", "card", tmp_path / "card.png")
    assert seen == {"text": "card for graphport"}
