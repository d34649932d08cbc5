"""The web console at /console: its HTTP serving (index for every page, assets, 404s, the
switch), and each page in a browser (headless Debian chromium driven by Playwright; no browser
download) against a live server: what it shows, a run started from it, a live run streaming in,
an interrupt resumed, a checkpoint picked, the store, under `http.mount_prefix`, with auth.

GRAPHPORT_TEST_CONSOLE_SCREENSHOTS=docs/console saves a screenshot of each page there (the docs').
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_ui import NODE, _project
from tests.api.test_webhooks import Receiver
from tests.conftest import ROOT, Server, start_server

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright

    expect.set_options(timeout=20_000)  # the longest a page may take to show what is awaited
except ImportError:  # the browser tests skip; the HTTP ones still run
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
GRAPHS = ROOT / "tests" / "graphs"
# the main graphs, with webhooks to loopback allowed (a delivery for the run page)
CONFIG = GRAPHS / "langgraph-webhooks.json"
WAIT = 20_000  # ms: for actions (clicks, fills), as for expectations

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("GRAPHPORT_TEST_URL")), reason="the console is graphport's own"
)


def _config(tmp: Path, http: dict[str, Any], source: Path = CONFIG) -> Path:
    """`source` with an `http` block, its graphs pointing at absolute paths (any directory)."""
    config = json.loads(source.read_text())
    config["dependencies"] = [str(GRAPHS)]
    for gid, spec in config["graphs"].items():
        if isinstance(spec, str):
            config["graphs"][gid] = str(GRAPHS / spec.removeprefix("./"))
        else:
            spec["path"] = str(GRAPHS / spec["path"].removeprefix("./"))
    if "auth" in config:
        config["auth"]["path"] = str(GRAPHS / config["auth"]["path"].removeprefix("./"))
    config["http"] = http
    path = tmp / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("console"), config=CONFIG)
    yield server
    server.stop()


@pytest.fixture
def http(srv: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        pytest.skip("playwright (Python) is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (scripts/browser.sh or apt-get install chromium)")
    with sync_playwright() as p:
        # Chromium's local-network checks would refuse a page's fetch to 127.0.0.1
        args = ["--no-sandbox", "--disable-features=LocalNetworkAccessChecks"]
        launched = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(WAIT)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    context.close()
    assert errors == [], "the page raised errors"


def _shot(page: Page, name: str, tmp_path: Path) -> None:
    folder = ROOT / os.environ.get("GRAPHPORT_TEST_CONSOLE_SCREENSHOTS", str(tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def _thread(http: httpx.Client, graph: str, input: Any, **body: Any) -> str:
    """A thread with one finished run of `graph`."""
    tid = str(http.post("/threads", json={}).json()["thread_id"])
    r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": graph, "input": input, **body})
    assert r.status_code == 200, r.text
    return tid


def _chat(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


# -- HTTP ----------------------------------------------------------------------------------


def test_every_console_path_answers_the_app_page(http: httpx.Client) -> None:
    """/console and its deep links answer the same index.html, told its base path."""
    r = http.get("/console")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<div id="app"></div>' in r.text and 'window.GRAPHPORT_BASE="";' in r.text
    assert '<base href="/console/">' in r.text
    for path in ("/console/", "/console/threads/3f1e0c1c-6a43-4b5e-9d8e-0f4c1a2b3c4d",
                 "/console/assistants/echo", "/console/store", "/console/index.html"):  # fmt: skip
        again = http.get(path)
        assert again.status_code == 200 and again.text == r.text, path


def test_assets_have_their_content_types_and_unknown_ones_404(http: httpx.Client) -> None:
    index = http.get("/console").text
    names = re.findall(r'(?:src|href)="\./([^"]+)"', index)
    assert sorted(names) == ["console.css", "console.js"]
    js, css = http.get("/console/console.js"), http.get("/console/console.css")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "graphport" in js.text  # the console's own bundle
    for missing in ("/console/nope.js", "/console/index.htm", "/console/console.map"):
        r = http.get(missing)
        assert r.status_code == 404 and r.json() == {"detail": "Not Found"}, missing


def test_the_console_is_neither_described_nor_counted(http: httpx.Client) -> None:
    """Kept out of /openapi.json and of the request metrics (like /docs)."""
    http.get("/console")
    http.get("/console/console.js")
    assert not [p for p in http.get("/openapi.json").json()["paths"] if "console" in p]
    counted = http.get("/metrics", params={"format": "json"}).json()["api"]
    assert "console" not in json.dumps(counted)


@pytest.mark.parametrize(("switch", "docs"), [("disable_console", 200), ("disable_meta", 404)])
def test_disable_console_removes_it(tmp_path: Path, switch: str, docs: int) -> None:
    """`http.disable_console` turns the console off; `disable_meta` too, as it does /docs."""
    server = start_server(tmp_path, config=_config(tmp_path, {switch: True}))
    try:
        for path in ("/console", "/console/console.js", "/console/threads/x"):
            r = httpx.get(server.url + path)
            assert r.status_code == 404 and r.json() == {"detail": "Not Found"}, path
        assert httpx.get(server.url + "/docs").status_code == docs
        assert httpx.get(server.url + "/assistants/echo").status_code == 200
    finally:
        server.stop()


# -- pages ---------------------------------------------------------------------------------


def test_home_lists_assistants_threads_and_health(
    page: Page, srv: Server, http: httpx.Client, tmp_path: Path
) -> None:
    tid = _thread(http, "chat", _chat("hello there"))
    page.goto(srv.url + "/console")
    assistants = page.get_by_role("region", name="Assistants")
    expect(assistants.get_by_role("link", name="MyNamedGraph")).to_be_visible()  # by name
    expect(assistants.get_by_role("link", name="echo", exact=True).first).to_be_visible()
    threads = page.get_by_role("region", name="Recent threads")
    expect(threads.get_by_role("link", name=tid)).to_be_visible()
    expect(threads.get_by_role("row").filter(has_text=tid)).to_contain_text("idle")
    expect(page.locator("[data-stat=pending]")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("[data-stat=max]")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.locator("[data-stat=processes]")).to_have_text("1")
    expect(page.get_by_text(re.compile(r"graphport \d"))).to_be_visible()  # from /info
    _shot(page, "home", tmp_path)
    threads.get_by_role("link", name=tid).click()
    expect(page).to_have_url(f"{srv.url}/console/threads/{tid}")
    expect(page.get_by_role("region", name="Current values")).to_contain_text("hello world")


def test_assistant_page_draws_the_graph_with_its_node_names(
    page: Page, srv: Server, http: httpx.Client, tmp_path: Path
) -> None:
    """The SVG has one <g> per node of GET /assistants/{id}/graph?xray=true, named after it
    (nested: the subgraph's node shows with xray)."""
    drawing = http.get("/assistants/nested/graph", params={"xray": "true"}).json()
    names = sorted(str(n["id"]) for n in drawing["nodes"])
    assert "child:child_node" in names
    page.goto(srv.url + "/console/assistants/nested")
    nodes = page.locator("svg.graph g.node")
    expect(nodes).to_have_count(len(names))
    assert sorted(nodes.all_text_contents()) == names
    expect(page.get_by_role("group").filter(has_text="Input schema")).to_contain_text("Messages")
    _shot(page, "assistant", tmp_path)


def test_a_run_started_from_the_assistant_page_shows_its_output(
    page: Page, srv: Server, http: httpx.Client
) -> None:
    before = http.post("/threads/count", json={}).json()
    page.goto(srv.url + "/console/assistants/echo")  # by graph_id
    expect(page.locator("svg.graph g.node", has_text="step")).to_have_count(1)
    page.get_by_role("textbox", name="Input", exact=True).fill("{oops")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("alert")).to_contain_text("Input is not valid JSON")
    assert http.post("/threads/count", json={}).json() == before  # no request was made
    page.get_by_role("textbox", name="Input", exact=True).fill('{"messages": ["from the page"]}')
    page.get_by_role("button", name="Run").click()
    output = page.get_by_role("region", name="Output")
    expect(output).to_contain_text("from the page")
    expect(output).to_contain_text('"count": 1')
    expect(page.get_by_label("Streamed events")).to_contain_text("updates")
    page.get_by_role("link", name=re.compile(r"^[0-9a-f-]{36}$")).click()
    expect(page.get_by_test_id("thread-status")).to_have_text("idle")
    expect(page.get_by_role("region", name="Current values")).to_contain_text("from the page")


def test_thread_page_shows_values_runs_and_a_live_run(
    page: Page, srv: Server, http: httpx.Client, tmp_path: Path
) -> None:
    """Values as a chat and the runs; a run started elsewhere appears without a reload."""
    tid = _thread(http, "chat", _chat("first question"))
    page.goto(f"{srv.url}/console/threads/{tid}")  # a deep link, navigated to directly
    values = page.get_by_role("region", name="Current values")
    expect(values.locator(".msg-user")).to_have_text(re.compile("first question"))
    expect(values.locator(".msg-assistant")).to_have_text(re.compile("hello world"))
    runs = page.get_by_role("table", name="Runs")
    expect(runs.locator("tbody tr")).to_have_count(1)
    expect(runs.locator("tbody tr")).to_contain_text("success")
    # the attempt, from the run's checkpoints (metadata.run_attempt)
    expect(runs.locator("tbody tr td").nth(5)).to_have_text("1")
    expect(page.get_by_text("following the thread stream")).to_be_visible()
    _shot(page, "thread", tmp_path)
    r = http.post(f"/threads/{tid}/runs", json={"assistant_id": "chat",
                                                "input": _chat("second question")})  # fmt: skip
    assert r.status_code == 200, r.text
    expect(values.locator(".msg-user").nth(1)).to_have_text(re.compile("second question"))
    expect(values.locator(".msg-assistant")).to_have_count(2)
    expect(runs.locator("tbody tr")).to_have_count(2)
    expect(runs.locator("tbody tr", has_text="success")).to_have_count(2)
    # it came through the thread stream (joined before the run started), not only polling
    expect(page.get_by_text(re.compile(r"^Live events \(\d+\)$"))).to_be_visible()


def test_an_interrupt_is_resumed_from_the_page(
    page: Page, srv: Server, http: httpx.Client, tmp_path: Path
) -> None:
    tid = _thread(http, "hitl", {"messages": []})
    assert http.get(f"/threads/{tid}").json()["status"] == "interrupted"
    page.goto(f"{srv.url}/console/threads/{tid}")
    waiting = page.get_by_role("region", name="Waiting on an interrupt")
    expect(waiting.get_by_label("Interrupt value")).to_contain_text('"what?"')
    expect(page.get_by_test_id("thread-status")).to_have_text("interrupted")
    _shot(page, "interrupt", tmp_path)
    page.get_by_role("textbox", name="Resume value").fill('"blue"')
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("thread-status")).to_have_text("idle")
    expect(waiting).to_have_count(0)
    expect(page.get_by_role("region", name="Current values")).to_contain_text("blue")
    assert http.get(f"/threads/{tid}").json()["status"] == "idle"
    assert http.get(f"/threads/{tid}/state").json()["values"]["messages"] == ["blue"]


@pytest.fixture(scope="module")
def ui_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with generative UI: graph `show` (push_ui_message) with tests/graphs/ui/echo.tsx
    as its `ui` entry, and the same graph as `show-no-ui`, which has none."""
    if not NODE:
        pytest.skip("node and npm are not on PATH: the `ui` block cannot be bundled")
    tmp = tmp_path_factory.mktemp("console_ui")
    base = json.loads((GRAPHS / "langgraph-ui.json").read_text())
    graphs = {**base["graphs"], "show": "./graphs.py:ui_show", "show-no-ui": "./graphs.py:ui_show"}
    config = _project(tmp, graphs=graphs, ui={**base["ui"], "show": "./ui/echo.tsx"})
    server = start_server(tmp, config=config)
    yield server
    server.stop()


def test_thread_page_renders_ui_messages_with_the_graphs_components(
    page: Page, ui_srv: Server, tmp_path: Path
) -> None:
    """The `ui` values of a thread rendered with its graph's bundled components (in a shadow
    root, their stylesheet applied, their state live on the console's Preact): one under the
    reply it is attached to, one after the chat; an unknown component and a graph without a
    `ui` block get a fallback text with the props."""
    with httpx.Client(base_url=ui_srv.url, timeout=30) as c:
        show = ["greeting", "farewell", "nosuch"]
        tid = _thread(c, "show", {**_chat("console"), "show": show})
        plain = _thread(c, "show-no-ui", _chat("console"))
    page.goto(f"{ui_srv.url}/console/threads/{tid}")
    values = page.get_by_role("region", name="Current values")
    reply = values.locator(".msg-assistant")
    greeting = reply.get_by_test_id("greeting")  # attached to the reply (metadata.message_id)
    expect(greeting).to_have_text("Hello, console!")
    assert greeting.evaluate("e => getComputedStyle(e).color") == "rgb(0, 128, 0)"  # its CSS
    assert greeting.evaluate("e => e.getRootNode() instanceof ShadowRoot")
    expect(values.get_by_label("UI messages").get_by_test_id("farewell")).to_have_text("Goodbye")
    failed = values.locator(".ui-message[data-ui-name='nosuch']")
    expect(failed.get_by_role("alert")).to_contain_text(
        'failed to load: the graph\'s components have none named "nosuch"'
    )
    expect(failed).to_contain_text('"who": "console"')
    expect(values).not_to_contain_text('"ui":')  # shown as components, not as JSON
    _shot(page, "ui", tmp_path)
    reply.get_by_role("button", name="clicked 0").click()
    expect(reply.get_by_role("button", name="clicked 1")).to_be_visible()
    # reloads of the state (the page polls it) keep the component and its state: the first
    # poll's answer is rendered by the time the second one arrives
    for _ in range(2):
        with page.expect_response(lambda r: r.url.endswith(f"/threads/{tid}/state"),
                                  timeout=30_000):  # fmt: skip
            pass
    expect(reply.get_by_role("button", name="clicked 1")).to_be_visible()
    page.goto(f"{ui_srv.url}/console/threads/{plain}")
    none = page.locator(".ui-message[data-ui-name='greeting']")
    expect(none.get_by_role("note")).to_contain_text("has no ui block in langgraph.json")
    expect(none.get_by_role("note")).to_contain_text("UI not found for graph 'show-no-ui'")
    expect(none).to_contain_text('"who": "console"')


def test_a_run_started_from_the_assistant_page_renders_its_ui_messages(
    page: Page, ui_srv: Server
) -> None:
    """The assistant page's run output renders UI messages the same way."""
    page.goto(ui_srv.url + "/console/assistants/show")
    page.get_by_role("textbox", name="Input", exact=True).fill(json.dumps(_chat("a run")))
    page.get_by_role("button", name="Run").click()
    output = page.get_by_role("region", name="Output")
    expect(output.get_by_test_id("greeting")).to_have_text("Hello, a run!")


def test_a_checkpoint_shows_its_values_and_can_be_forked(
    page: Page, srv: Server, http: httpx.Client
) -> None:
    tid = _thread(http, "echo", {"messages": ["one"]})
    http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "echo", "input": {}})
    history = http.post(f"/threads/{tid}/history", json={"limit": 20}).json()
    first = next(h for h in history if h["values"].get("count") == 1)
    page.goto(f"{srv.url}/console/threads/{tid}")
    expect(page.get_by_role("region", name="Current values")).to_contain_text('"count": 2')
    page.locator(f"button[data-checkpoint='{first['checkpoint_id']}']").click()
    chosen = page.get_by_label("Checkpoint values")
    expect(chosen).to_contain_text('"count": 1')
    expect(chosen.locator(".msg")).to_have_count(2)  # "one" and the node's "hi"
    page.get_by_role("button", name="Fork from this checkpoint").click()
    runs = page.get_by_role("table", name="Runs")
    expect(runs.locator("tbody tr", has_text="success")).to_have_count(3)
    forked = http.get(f"/threads/{tid}/runs").json()[0]
    assert forked["kwargs"]["config"]["configurable"]["checkpoint_id"] == first["checkpoint_id"]


def test_store_page_shows_an_item(
    page: Page, srv: Server, http: httpx.Client, tmp_path: Path
) -> None:
    item = {"namespace": ["console", "notes"], "key": "k1", "value": {"text": "remember me"}}
    assert http.put("/store/items", json=item).status_code == 204
    page.goto(srv.url + "/console")
    page.get_by_role("link", name="Store", exact=True).click()  # one click from home
    page.get_by_role("button", name="console / notes").click()
    items = page.get_by_role("table", name="Items")
    expect(items.locator("tr", has_text="k1")).to_contain_text("remember me")
    _shot(page, "store", tmp_path)


def test_a_run_shows_its_webhook_delivery_and_feedback(
    page: Page, srv: Server, http: httpx.Client, tmp_path: Path
) -> None:
    receiver = Receiver()
    try:
        tid = str(http.post("/threads", json={}).json()["thread_id"])
        body = {"assistant_id": "echo", "input": {}, "webhook": receiver.url + "/hook",
                "feedback_keys": ["helpful"]}  # fmt: skip
        output = http.post(f"/threads/{tid}/runs/wait", json=body).json()
        receiver.wait_for(1)
        run_id = http.get(f"/threads/{tid}/runs").json()[0]["run_id"]
        feedback = httpx.post(output["__feedback__"]["helpful"],
                              json={"score": 1, "comment": "spot on"})  # fmt: skip
        assert feedback.status_code == 201, feedback.text
        page.goto(f"{srv.url}/console/threads/{tid}")
        page.get_by_role("link", name="Webhook & feedback").click()  # one click from the run
        expect(page).to_have_url(re.compile(f"/console/runs/{run_id}"))
        webhook = page.get_by_role("region", name="Webhook deliveries")
        expect(webhook).to_contain_text("delivered")
        expect(webhook.get_by_role("table", name="Delivery attempts")).to_contain_text("200")
        expect(page.get_by_role("table", name="Feedback")).to_contain_text("spot on")
        _shot(page, "run", tmp_path)
    finally:
        receiver.close()


def test_deep_links_work_under_a_mount_prefix(page: Page, tmp_path: Path) -> None:
    server = start_server(tmp_path, config=_config(tmp_path, {"mount_prefix": "/api"}))
    try:
        with httpx.Client(base_url=server.url + "/api", timeout=30) as http:
            tid = _thread(http, "chat", _chat("under a prefix"))
        assert httpx.get(server.url + "/console").status_code == 404
        page.goto(f"{server.url}/api/console/threads/{tid}")
        expect(page.get_by_role("region", name="Current values")).to_contain_text("under a prefix")
        page.get_by_role("link", name="Home").click()
        expect(page).to_have_url(server.url + "/api/console")
        expect(page.get_by_role("link", name="MyNamedGraph")).to_be_visible()
        page.get_by_role("link", name="router").first.click()
        expect(page).to_have_url(re.compile(r"/api/console/assistants/"))
        expect(page.locator("svg.graph g.node", has_text="__start__")).to_have_count(1)
    finally:
        server.stop()


def test_with_auth_the_page_asks_for_a_token(page: Page, tmp_path: Path) -> None:
    """tests/graphs/auth_graphs.py accepts admin-token (sees everything)."""
    config = _config(tmp_path, {}, source=GRAPHS / "langgraph-auth.json")
    server = start_server(tmp_path, config=config)
    try:
        page.goto(server.url + "/console")
        expect(page.get_by_role("alert").first).to_contain_text("requires authentication")
        page.get_by_role("textbox", name="Token").fill("admin-token")
        page.get_by_role("button", name="Save token").click()
        expect(page.get_by_role("link", name="whoami").first).to_be_visible()
        expect(page.get_by_text("requires authentication")).to_have_count(0)
        page.reload()  # the token is kept (localStorage)
        expect(page.get_by_role("link", name="whoami").first).to_be_visible()
        page.get_by_role("link", name="echo", exact=True).first.click()
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_role("region", name="Output")).to_contain_text('"count": 1')
    finally:
        server.stop()
