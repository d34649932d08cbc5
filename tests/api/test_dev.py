"""`graphport dev` as a user runs it: a subprocess on a temp project, its graph file edited."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_logs import IMPORT_ERRORS, check_import_error, write_broken_graph
from tests.conftest import wait_until

GRAPH = """
from typing import TypedDict
from langgraph.graph import StateGraph

class State(TypedDict):
    x: int

def step(state):
    if state["x"] < 0:
        raise ValueError("negative input")
    return {"x": state["x"] + INCREMENT}

INCREMENT = 1
builder = StateGraph(State)
builder.add_node("step", step)
builder.set_entry_point("step")
graph = builder.compile()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    (tmp_path / "graph.py").write_text(GRAPH)
    (tmp_path / "langgraph.json").write_text('{"graphs": {"agent": "./graph.py:graph"}}')
    port = _free_port()
    log = tmp_path / "dev.log"
    env = {**os.environ, "NO_COLOR": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphport", "dev", "--port", str(port)],
            cwd=tmp_path / "..",
            env={**env, "GRAPHPORT_CONFIG": str(tmp_path / "langgraph.json")},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield tmp_path, f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _run(base: str, x: int) -> dict[str, object]:
    body = {"assistant_id": "agent", "input": {"x": x}}
    reply = httpx.post(f"{base}/runs/wait", json=body, timeout=30)
    reply.raise_for_status()
    return dict(reply.json())


def test_dev_reloads_keeps_data_and_logs(project: tuple[Path, str, Path]) -> None:
    folder, base, log = project
    wait_until(
        lambda: httpx.get(f"{base}/ok").status_code == 200,
        what="the server",
        ignore=(httpx.HTTPError,),
    )
    text = log.read_text()
    for line in ("API:", f"{base}/docs", f"{base}/console", f"baseUrl={base}"):
        assert line in text
    thread = httpx.post(f"{base}/threads", json={"metadata": {"kept": True}}).json()
    assert _run(base, 1) == {"x": 2}
    assert "ended: graph=agent status=success" in log.read_text()

    (folder / "graph.py").write_text(GRAPH.replace("INCREMENT = 1", "INCREMENT = 10"))
    wait_until(
        lambda: _run(base, 1) == {"x": 11}, what="the edited graph", ignore=(httpx.HTTPError,)
    )
    assert "graph.py changed; reloading" in log.read_text()
    kept = httpx.get(f"{base}/threads/{thread['thread_id']}").json()
    assert kept["metadata"] == {"kept": True}

    failed = _run(base, -1)
    assert "negative input" in str(failed)
    wait_until(
        lambda: "status=error" in log.read_text(),
        what="the failed run's log line",
        ignore=(httpx.HTTPError,),
    )
    text = log.read_text()
    assert 'raise ValueError("negative input")' in text
    assert 'graph.py", line 10, in step' in text

    (folder / "graph.py").write_text(GRAPH + "\nimport no_such_module_here\n")
    wait_until(
        lambda: "No module named 'no_such_module_here'" in log.read_text(),
        what="the import error",
        ignore=(httpx.HTTPError,),
    )
    assert "waiting for a change to reload" in log.read_text()
    (folder / "graph.py").write_text(GRAPH.replace("INCREMENT = 1", "INCREMENT = 100"))
    wait_until(
        lambda: _run(base, 1) == {"x": 101}, what="the graph fixed again", ignore=(httpx.HTTPError,)
    )


@pytest.mark.parametrize("kind", IMPORT_ERRORS)
def test_dev_names_an_import_error_and_waits_for_the_fix(tmp_path: Path, kind: str) -> None:
    """Where `serve` exits, `dev` prints the same message and traceback and waits for an edit."""
    config = write_broken_graph(tmp_path, kind)
    port = _free_port()
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphport", "dev", "--config", str(config),
             "--port", str(port), "--database-url", ":memory:"],
            cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(
            lambda: "waiting for a change to reload" in log.read_text(),
            what="dev's import error",
            describe=log.read_text,
        )
        text = log.read_text()
        assert "ERROR graphport.dev: the graphs did not load: " in text
        check_import_error(text, tmp_path, kind)
        assert proc.poll() is None  # the watcher waits for the fix
        (tmp_path / "graph.py").write_text(GRAPH)
        wait_until(
            lambda: _run(f"http://127.0.0.1:{port}", 1) == {"x": 2},
            what="the fixed graph",
            ignore=(httpx.HTTPError,),
            describe=log.read_text,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
