"""Small pieces: ids, error payloads, result bodies, settings, merge rules."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from langgraph.errors import GraphRecursionError
from langgraph.types import Interrupt

from graphport.config import ConfigError, load_settings
from graphport.engine.executor import Outcome, command_from_json, error_payload
from graphport.engine.prepare import durability_of, new_run
from graphport.models import uuid7


def test_uuid7_is_version_7_and_time_ordered() -> None:
    a, b = uuid7(), uuid7()
    assert uuid.UUID(a).version == 7
    assert a[:13] <= b[:13]


def test_error_payload_masks_unknown_exceptions() -> None:
    assert error_payload(ValueError("kaboom")) == {"error": "ValueError", "message": "kaboom"}
    assert error_payload(GraphRecursionError("limit")) == {
        "error": "GraphRecursionError",
        "message": "limit",
    }

    class Secret(Exception):
        pass

    assert error_payload(Secret("password=1")) == {
        "error": "Secret",
        "message": "An internal error occurred",
    }


def test_outcome_body_shapes() -> None:
    assert Outcome("success", values={"a": 1}).body() == b'{"a":1}'
    assert Outcome("success").body() == b"{}"
    interrupted = Outcome("success", values={"a": 1}, interrupts=[Interrupt("q", id="i1")])
    assert json.loads(interrupted.body()) == {
        "a": 1,
        "__interrupt__": [{"value": "q", "id": "i1", "response_schema": None}],
    }
    failed = Outcome("error", values={"a": 1}, error={"error": "E", "message": "m"})
    assert json.loads(failed.body()) == {"__error__": {"error": "E", "message": "m"}}


def test_command_from_json_builds_sends() -> None:
    cmd = command_from_json({"goto": [{"node": "b", "input": {"x": 1}}, "c"], "update": [["k", 1]]})
    assert [getattr(g, "node", g) for g in cmd.goto] == ["b", "c"]
    assert cmd.update == [("k", 1)]


def test_durability_from_checkpoint_during() -> None:
    assert durability_of({}) == "async"
    assert durability_of({"checkpoint_during": False}) == "exit"
    assert durability_of({"checkpoint_during": False, "durability": "sync"}) == "sync"


def _assistant(config: dict, context: dict, metadata: dict) -> dict:
    return {
        "assistant_id": "a1",
        "graph_id": "g",
        "config": config,
        "context": context,
        "metadata": metadata,
        "name": "g",
        "description": None,
        "created_at": "",
        "updated_at": "",
        "version": 1,
    }


def test_merge_rules_of_config_context_and_metadata() -> None:
    asst = _assistant(
        {"tags": ["atag"], "recursion_limit": 7, "configurable": {"user": "a", "model": "m"}},
        {"user": "a", "model": "m"},
        {"created_by": "system", "shared": "asst"},
    )
    run = new_run(
        {
            "config": {"tags": ["rtag"], "configurable": {"user": "r", "thread_id": "spoof"}},
            "metadata": {"shared": "req", "run_id": "stripped"},
        },
        asst,  # type: ignore[arg-type]
        run_id="r1",
        thread_id="t1",
        created_at="now",
        updated_at="now",
        request_id="req-1",
        temporary=True,
    )
    cfg = run["kwargs"]["config"]
    assert cfg["tags"] == ["rtag"] and cfg["recursion_limit"] == 7
    assert cfg["configurable"]["user"] == "r" and cfg["configurable"]["model"] == "m"
    assert cfg["configurable"]["thread_id"] == "t1"
    assert cfg["configurable"]["langgraph_request_id"] == "req-1"
    assert run["metadata"] == {"created_by": "system", "shared": "req", "assistant_id": "a1"}
    assert run["kwargs"]["context"] == {"user": "r", "model": "m"}


def test_settings_read_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "langgraph.json"
    config.write_text('{"graphs": {"a": "./a.py:g"}}')
    monkeypatch.setenv("GRAPHPORT_PORT", "9999")
    monkeypatch.setenv("GRAPHPORT_JOBS", "3")
    s = load_settings(config=str(config))
    assert s.port == 9999 and s.jobs == 3
    assert s.sqlite_path == str(tmp_path / ".graphport" / "graphport.sqlite")
    assert load_settings(config=str(config), port=1).port == 1
    assert load_settings(config=str(config), database_url=":memory:").sqlite_path == ":memory:"
    assert load_settings(config=str(config), database_url="sqlite:///x.db").sqlite_path == "x.db"


def test_settings_reject_a_config_without_graphs(tmp_path: Path) -> None:
    config = tmp_path / "langgraph.json"
    config.write_text('{"graphs": {}}')
    with pytest.raises(ConfigError):
        load_settings(config=str(config))
    with pytest.raises(ConfigError):
        load_settings(config=str(tmp_path / "missing.json"))
