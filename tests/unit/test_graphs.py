"""Loading langgraph.json graphs (spec §5.3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graphport.config import ConfigError, load_settings
from graphport.graphs import default_assistant_id, load_graphs

GRAPH_FILE = """
from langgraph.graph import StateGraph, START, END
from typing_extensions import TypedDict

class S(TypedDict):
    x: int

b = StateGraph(S)
b.add_node("n", lambda s: {"x": s["x"] + 1})
b.add_edge(START, "n")
b.add_edge("n", END)
compiled = b.compile()
builder = b
not_a_graph = 42

def two_params(config, runtime):
    return b

def three_params(a, b, c):
    return b
"""


def write_config(tmp_path: Path, graphs: dict[str, object]) -> Path:
    (tmp_path / "g.py").write_text(GRAPH_FILE)
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": graphs}))
    return config


def test_default_assistant_ids_are_the_references() -> None:
    assert default_assistant_id("echo") == "046b5dc7-2108-582c-9c6c-31d556d138f0"
    assert default_assistant_id("agent") == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"


def test_compiled_builder_and_factory_entries(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {
            "a": "./g.py:compiled",
            "b": {"path": "./g.py:builder", "description": "built"},
            "c": "./g.py:two_params",
        },
    )
    graphs = load_graphs(load_settings(config=str(config), database_url=":memory:"))
    assert not graphs["a"].is_factory and not graphs["b"].is_factory
    assert graphs["b"].description == "built"
    assert graphs["c"].is_factory and set(graphs["c"].factory_params) == {"config", "runtime"}


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("./g.py:missing", ["missing", "g"]),
        ("./g.py:not_a_graph", ["not_a_graph", "not a Graph"]),
        ("./nofile.py:x", ["nofile.py"]),
        ("./g.py:three_params", ["three_params", "3 parameters"]),
        ("no_such_module_xyz:graph", ["no_such_module_xyz", "ModuleNotFoundError"]),
        ("./g.py", ["expected"]),
    ],
)
def test_bad_entries_name_the_file_the_attribute_and_the_cause(
    tmp_path: Path, spec: str, words: list[str]
) -> None:
    config = write_config(tmp_path, {"bad": spec})
    with pytest.raises(ConfigError) as info:
        load_graphs(load_settings(config=str(config), database_url=":memory:"))
    for word in words:
        assert word in str(info.value)


def test_serve_refuses_to_start_on_a_bad_graph(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"bad": "./g.py:not_a_graph"})
    proc = subprocess.run(
        [sys.executable, "-m", "graphport", "serve", "--config", str(config), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "not_a_graph" in proc.stderr and "g.py" in proc.stderr


def test_env_mapping_is_loaded_without_overriding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "g.py").write_text(GRAPH_FILE)
    config = tmp_path / "langgraph.json"
    config.write_text(
        json.dumps({"graphs": {"a": "./g.py:compiled"}, "env": {"GP_T1": "file", "GP_T2": "file"}})
    )
    monkeypatch.setenv("GP_T2", "shell")
    monkeypatch.delenv("GP_T1", raising=False)
    load_graphs(load_settings(config=str(config), database_url=":memory:"))
    import os

    assert os.environ["GP_T1"] == "file" and os.environ["GP_T2"] == "shell"
    monkeypatch.delenv("GP_T1")
