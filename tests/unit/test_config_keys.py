"""langgraph.json fails closed: every key is served, refused at start, accepted as
image-build-only, or warned about as unknown (config.KEYS)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphport.config import IMAGE, KEYS, SERVED, ConfigError, Refused, check_keys, load_settings
from tests.conftest import GRAPHS_CONFIG, ROOT, start_server

GRAPH = {"g": "./g.py:graph"}


def test_what_graphport_serves_passes_without_a_word() -> None:
    served = {
        "graphs": GRAPH,
        "dependencies": ["."],
        "env": {"A": "1"},
        "http": {"cors": {"allow_origins": ["*"]}, "disable_mcp": True, "mount_prefix": "/x"},
        "store": {"ttl": {"default_ttl": 5}},
        "checkpointer": {"backend": "default"},
        "webhooks": {"url": {"require_https": True}, "env_prefix": "LG_"},
        "auth": {},
    }
    assert check_keys(served) == []


@pytest.mark.parametrize("key", ["python_version", "dockerfile_lines", "keep_pkg_tools"])
def test_image_build_keys_get_one_info_line(key: str) -> None:
    assert check_keys({"graphs": GRAPH, key: "x"}) == [
        (logging.INFO, f"langgraph.json: '{key}' only matters to image builds; accepted")
    ]


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ({"htp": {}}, "unknown key 'htp' (did you mean 'http'?), ignored"),
        ({"wibble": 1}, "unknown key 'wibble', ignored"),
        ({"http": {"disable_asistants": True}}, "(did you mean 'http.disable_assistants'?)"),
        ({"http": {"cors": {"allow_orgins": []}}}, "(did you mean 'http.cors.allow_origins'?)"),
        ({"store": {"indx": {}}}, "unknown key 'store.indx' (did you mean 'store.index'?)"),
        ({"webhooks": {"url": {"require_http": True}}}, "mean 'webhooks.url.require_https'"),
        ({"auth": {"pth": "./a.py:auth"}}, "unknown key 'auth.pth' (did you mean 'auth.path'?)"),
        ({"checkpointer": {"tll": {}}}, "(did you mean 'checkpointer.ttl'?)"),
    ],
)  # fmt: skip
def test_unknown_keys_are_warned_about_with_the_closest_known_one(raw: Any, line: str) -> None:
    notes = check_keys(raw)
    assert len(notes) == 1 and notes[0][0] == logging.WARNING
    assert line in notes[0][1]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"auth": {"cache": {"ttl_seconds": 60}}}, "'auth.cache' is not served by graphport"),
        ({"auth": {"allow_langsmith_api_keys": True}}, "'auth.allow_langsmith_api_keys' is not"),
        ({"checkpointer": {"backend": "mongo"}}, "'checkpointer.backend' is not served"),
        ({"store": {"path": "./s.py:store"}}, "'store.path' is not served by"),
        ({"encryption": {"path": "./e.py:enc"}}, "'encryption' is not served"),
        ({"http": "yes"}, "'http' must be an object"),
        ({"http": {"cors": []}}, "'http.cors' must be an object"),
    ],
)  # fmt: skip
def test_refused_keys_stop_the_start_naming_the_key(raw: Any, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_keys({"graphs": GRAPH, **raw})
    message = str(info.value)
    assert words in message and "\n" not in message


def test_a_refused_key_set_to_null_asks_for_nothing() -> None:
    assert check_keys({"auth": {"path": None}, "encryption": None}) == []


def test_the_ui_keys_are_served() -> None:
    """`ui`, `ui_config.shared` and `http.disable_ui` are served (tests/api/test_ui.py)."""
    raw = {"ui": {"chat": "./ui.tsx"}, "ui_config": {"shared": ["x"]}}
    assert check_keys({**raw, "http": {"disable_ui": False}}) == []


def _walk(table: dict[str, Any]) -> list[Any]:
    entries = []
    for entry in table.values():
        entries += _walk(entry) if isinstance(entry, dict) else [entry]
    return entries


def test_every_entry_is_a_known_kind() -> None:
    for entry in _walk(KEYS):
        assert entry is SERVED or entry is IMAGE or isinstance(entry, Refused), entry


def test_the_reference_top_level_keys_are_all_registered() -> None:
    # langgraph-cli 0.4.40's Config (schemas.py)
    reference = (
        "python_version node_version api_version _INTERNAL_docker_tag base_image image_distro "
        "pip_config_file pip_installer source dockerfile_lines dependencies graphs env store "
        "checkpointer auth encryption priority http webhooks ui keep_pkg_tools"
    ).split()
    assert [key for key in reference if key not in KEYS] == []


def test_the_test_configs_need_no_warning() -> None:
    for path in sorted(GRAPHS_CONFIG.parent.glob("*.json")):
        assert check_keys(json.loads(path.read_text())) == [], path


def _config(tmp_path: Path, **extra: Any) -> Path:
    (tmp_path / "g.py").write_text(
        "from langgraph.func import entrypoint\n\n@entrypoint()\ndef graph(x):\n    return x\n"
    )
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": GRAPH, **extra}))
    return path


def test_load_settings_refuses_and_keeps_the_notes(tmp_path: Path) -> None:
    settings = load_settings(config=str(_config(tmp_path, python_version="3.12", wibble=1)))
    assert [level for level, _ in settings.config_notes] == [logging.INFO, logging.WARNING]
    with pytest.raises(ConfigError, match=r"'encryption' is not served"):
        load_settings(config=str(_config(tmp_path, encryption={"path": "./e.py:enc"})))


def test_serve_refuses_in_one_line_and_logs_the_notes(tmp_path: Path) -> None:
    config = _config(tmp_path, encryption={"path": "./e.py:enc"})
    cmd = [sys.executable, "-m", "graphport", "serve", "--config", str(config), "--port", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "graphport: langgraph.json: 'encryption' is not served by graphport: custom at-rest "
        "encryption is not served; remove the key and encrypt the database's storage (disk or "
        "PostgreSQL) instead"
    ]
    server = start_server(tmp_path, config=_config(tmp_path, python_version="3.12", htp={}))
    try:
        assert httpx.get(server.url + "/ok").status_code == 200
    finally:
        server.stop()
    log = server.log()
    assert "INFO graphport.config: langgraph.json: 'python_version' only matters to image" in log
    assert "WARNING graphport.config: langgraph.json: unknown key 'htp' (did you mean" in log
