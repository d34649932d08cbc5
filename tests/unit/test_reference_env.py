"""The reference's environment names configure graphport too (config.REFERENCE_ENV), so a
deployment manifest written for the reference runs unchanged; GRAPHPORT_* and then the command
line win over them."""

from __future__ import annotations

import pytest

from graphport.config import REFERENCE_ENV, load_settings
from tests.conftest import GRAPHS_CONFIG

REFERENCE_VALUES = {
    "N_JOBS_PER_WORKER": "7",
    "BG_JOB_TIMEOUT_SECS": "2.5",
    "DATABASE_URI": "postgresql://ref@db:5432/app",
    "REDIS_URI": "redis://cache:6379/0",
    "LOG_LEVEL": "WARNING",
    "LOG_JSON": "true",
    "MOUNT_PREFIX": "/agents",
    "CORS_ALLOW_ORIGINS": "https://a.example, https://b.example",
    "HTTP_MAX_REQUEST_BODY_BYTES": "1024",
}


@pytest.fixture
def reference_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    assert set(REFERENCE_VALUES) == set(REFERENCE_ENV.values())  # every name is covered here
    for name, value in REFERENCE_VALUES.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_every_reference_name_is_read(reference_env: pytest.MonkeyPatch) -> None:
    settings = load_settings(config=str(GRAPHS_CONFIG))
    assert settings.jobs == 7
    assert settings.run_timeout == 2.5
    assert settings.database_url == "postgresql://ref@db:5432/app"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.log_level == "warning"
    assert settings.log_json is True
    assert settings.http["mount_prefix"] == "/agents"
    assert settings.http["cors"]["allow_origins"] == ["https://a.example", "https://b.example"]
    assert settings.max_body_bytes == 1024


def test_graphport_names_then_the_command_line_win(reference_env: pytest.MonkeyPatch) -> None:
    reference_env.setenv("GRAPHPORT_JOBS", "3")
    reference_env.setenv("GRAPHPORT_DATABASE_URL", "postgresql://gp@db/app")
    reference_env.setenv("GRAPHPORT_RUN_TIMEOUT", "9")
    settings = load_settings(config=str(GRAPHS_CONFIG))
    assert (settings.jobs, settings.database_url, settings.run_timeout) == (
        3,
        "postgresql://gp@db/app",
        9.0,
    )
    settings = load_settings(config=str(GRAPHS_CONFIG), jobs=5, database_url="sqlite:///x.db")
    assert (settings.jobs, settings.database_url) == (5, "sqlite:///x.db")
