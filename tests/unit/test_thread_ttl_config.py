"""`checkpointer.ttl` of langgraph.json: parsing and the sweep interval it sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graphport.config import ConfigError, ThreadTTL, load_settings, parse_thread_ttl


def settings_with(
    tmp_path: Path, ttl: Any, monkeypatch: pytest.MonkeyPatch, env: str | None
) -> Any:
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"g": "./g.py:g"}, "checkpointer": {"ttl": ttl}}))
    monkeypatch.delenv("GRAPHPORT_TTL_SWEEP_SECONDS", raising=False)
    if env is not None:
        monkeypatch.setenv("GRAPHPORT_TTL_SWEEP_SECONDS", env)
    return load_settings(str(config))


def test_parsed_with_the_reference_fields() -> None:
    ttl = parse_thread_ttl(
        {"strategy": "keep_latest", "default_ttl": 43200, "sweep_interval_minutes": 60,
         "sweep_limit": 500}
    )  # fmt: skip
    assert ttl == ThreadTTL("keep_latest", 43200.0, 60.0, 500)
    assert ttl.default == {"strategy": "keep_latest", "ttl": 43200.0}
    assert parse_thread_ttl({"sweep_interval_minutes": 1}).default is None  # no default TTL
    assert parse_thread_ttl({"default_ttl": 1}).default == {"strategy": "delete", "ttl": 1.0}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"strategy": "archive"}, "checkpointer.ttl.strategy must be 'delete' or 'keep_latest'"),
        ({"default_ttl": 0}, "checkpointer.ttl.default_ttl (minutes) must be a positive number"),
        ({"sweep_interval_minutes": "5"}, "sweep_interval_minutes must be a positive number"),
        ({"sweep_limit": 1.5}, "checkpointer.ttl.sweep_limit must be a positive integer"),
        ([60], "checkpointer.ttl must be an object"),
    ],
)
def test_bad_values_stop_the_start(raw: Any, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_thread_ttl(raw)
    assert words in str(info.value)


def test_sweep_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sweep_interval_minutes sets how often threads are swept; GRAPHPORT_TTL_SWEEP_SECONDS,
    when set, wins; neither: every 60 s."""
    s = settings_with(tmp_path, {"sweep_interval_minutes": 2}, monkeypatch, None)
    assert s.ttl_sweep_seconds == 120.0 and s.thread_ttl.sweep_limit == 10_000
    s = settings_with(tmp_path, {"sweep_interval_minutes": 2}, monkeypatch, "0.5")
    assert s.ttl_sweep_seconds == 0.5
    s = settings_with(tmp_path, {"default_ttl": 5}, monkeypatch, None)
    assert s.ttl_sweep_seconds == 60.0 and s.thread_ttl.default == {
        "strategy": "delete",
        "ttl": 5.0,
    }


def test_reference_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LANGGRAPH_THREAD_TTL, the reference's variable: minutes, or the block as JSON; it wins
    over checkpointer.ttl, as in the reference."""
    monkeypatch.setenv("LANGGRAPH_THREAD_TTL", "30")
    s = settings_with(tmp_path, {"default_ttl": 5}, monkeypatch, None)
    assert s.thread_ttl == ThreadTTL("delete", 30.0, 5.1)
    assert s.ttl_sweep_seconds == pytest.approx(306.0)
    monkeypatch.setenv("LANGGRAPH_THREAD_TTL", '{"strategy": "keep_latest", "default_ttl": 2}')
    s = settings_with(tmp_path, None, monkeypatch, None)
    assert s.thread_ttl.default == {"strategy": "keep_latest", "ttl": 2.0}
    monkeypatch.setenv("LANGGRAPH_THREAD_TTL", "soon")
    with pytest.raises(ConfigError, match="LANGGRAPH_THREAD_TTL must be minutes"):
        settings_with(tmp_path, None, monkeypatch, None)
