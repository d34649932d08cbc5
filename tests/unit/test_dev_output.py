"""The pieces of `graphport dev` that the subprocess test cannot see: colour, watched files."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from watchfiles import Change

from graphport import dev


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record() -> logging.LogRecord:
    return logging.LogRecord("graphport.worker", logging.ERROR, __file__, 1, "run x", None, None)


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert dev.use_colour(FakeTerminal())
    assert not dev.use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not dev.use_colour(FakeTerminal())


def test_the_level_is_coloured_and_the_record_left_plain() -> None:
    record = _record()
    assert "\x1b[31mERROR\x1b[0m" in dev.DevFormatter(colour=True).format(record)
    assert record.levelname == "ERROR"
    assert "\x1b[" not in dev.DevFormatter(colour=False).format(record)


def test_sources_are_watched_not_the_database(tmp_path: Path) -> None:
    accept = dev._filter()
    assert accept(Change.modified, str(tmp_path / "graph.py"))
    assert accept(Change.modified, str(tmp_path / "langgraph.json"))
    assert not accept(Change.modified, str(tmp_path / ".graphport" / "graphport.json"))
    assert not accept(Change.modified, str(tmp_path / "dev.log"))


def test_graph_files_outside_the_config_folder_are_watched(tmp_path: Path) -> None:
    graphs = {"a": "./graph.py:graph", "b": "../elsewhere/other.py:graph", "c": "pkg.mod:graph"}
    dirs = dev.watched_dirs(tmp_path / "project", graphs)
    assert dirs == [tmp_path / "project", (tmp_path / "elsewhere").resolve()]


def test_the_banner_names_every_url() -> None:
    text = dev.banner("http://127.0.0.1:9")
    assert "http://127.0.0.1:9/docs" in text and "http://127.0.0.1:9/console" in text
    assert "https://smith.langchain.com/studio/?baseUrl=http://127.0.0.1:9" in text


def test_the_banner_follows_the_http_block() -> None:
    text = dev.banner("http://h:9", {"mount_prefix": "/api", "disable_console": True})
    assert "API:     http://h:9/api" in text and "Docs:    http://h:9/api/docs" in text
    assert "/console" not in text and "baseUrl=http://h:9/api" in text
    assert "/docs" not in dev.banner("http://h:9", {"disable_meta": True})
