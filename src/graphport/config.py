"""Settings: built once from the command line, GRAPHPORT_* variables and langgraph.json.

Every default lives here. The rest of graphport reads a frozen `Settings` and never
looks at the environment itself.

langgraph.json fails closed: `KEYS` below lists every key the reference honours, and the
fields of its blocks, each as one of
  SERVED          parsed into the settings and acted on;
  IMAGE           matters only to image builds (`langgraph build`): accepted, one info line;
  Refused(why)    graphport does not do it: the server refuses to start, naming the key and
                  what to do instead (`unless=` a value that asks for nothing, e.g. `true` for
                  a `disable_*` switch of a feature graphport does not serve);
  {field: ...}    a block, its fields checked the same way.
A key in no table gets a warning (with the closest known key when it looks like a typo).
When you make graphport serve a key, flip its line to SERVED in the same commit.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
from pathlib import Path
from typing import Any

import orjson

DEFAULT_PORT = 8123
DEFAULT_JOBS = 100
KEEPALIVE_SECONDS = 5.0
# What langgraph-api allows by default (HTTP_MAX_REQUEST_BODY_BYTES).
DEFAULT_MAX_BODY_BYTES = 314_572_800


class ConfigError(Exception):
    """langgraph.json (or an option) is unusable; the server refuses to start."""

    details: str = ""  # more to show below the one-line message (a traceback of user code)


# -- the langgraph.json key registry -----------------------------------------------------------


class _Status:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


SERVED = _Status("SERVED")
IMAGE = _Status("IMAGE")


@dataclasses.dataclass(frozen=True)
class Refused:
    why: str  # what is not served, and what to do instead
    unless: Any = None  # a value that asks for nothing graphport lacks (None: any value refused)


Entry = _Status | Refused | dict[str, Any]

_HEADERS = {"includes": SERVED, "excludes": SERVED, "include": SERVED, "exclude": SERVED}

KEYS: dict[str, Entry] = {
    "$schema": SERVED,  # an editor's hint
    "graphs": SERVED,
    "dependencies": SERVED,
    "env": SERVED,
    "python_version": IMAGE,
    "node_version": IMAGE,
    "api_version": IMAGE,
    "base_image": IMAGE,
    "image_distro": IMAGE,
    "pip_config_file": IMAGE,
    "pip_installer": IMAGE,
    "source": IMAGE,
    "dockerfile_lines": IMAGE,
    "keep_pkg_tools": IMAGE,
    "_INTERNAL_docker_tag": IMAGE,
    "ui": SERVED,  # graphport.ui bundles it, api/ui.py serves it
    "ui_config": {"shared": SERVED},
    "encryption": Refused(
        "custom at-rest encryption is not served; remove the key and encrypt the database's "
        "storage (disk or PostgreSQL) instead"
    ),
    "priority": Refused("custom run priorities are not served; remove the key"),
    "store": {
        "path": Refused(
            "a custom store is not supported: graphport serves langgraph's own store on its "
            "database; configure it with store.index and store.ttl"
        ),
        "index": {
            "embed": SERVED,
            "dims": SERVED,
            "fields": SERVED,
            "distance_type": SERVED,
            "ann_index_config": SERVED,
        },
        "ttl": {"refresh_on_read": SERVED, "default_ttl": SERVED, "sweep_interval_minutes": SERVED},
    },
    "checkpointer": {
        "backend": Refused(
            "graphport keeps checkpoints in its own database (--database-url); remove the key",
            unless="default",
        ),
        "path": Refused(
            "a custom checkpointer is not supported: graphport keeps checkpoints in its own "
            "database (--database-url); remove the key"
        ),
        "uri": Refused("graphport keeps checkpoints in its own database (--database-url)"),
        "ttl": {  # engine/threads.py sweeps, storage/base.py's thread_expiry
            "strategy": SERVED,
            "default_ttl": SERVED,
            "sweep_interval_minutes": SERVED,
            "sweep_limit": SERVED,
        },
        "serde": Refused(
            "graphport serialises checkpoints with langgraph's default serde; remove the key"
        ),
    },
    "auth": {  # graphport.auth
        "path": SERVED,
        "disable_studio_auth": SERVED,
        "openapi": SERVED,  # merged into /openapi.json
        "allow_langsmith_api_keys": Refused(
            "LangSmith API keys cannot be checked outside LangSmith; remove the key and "
            "authenticate with auth.path",
            unless=False,
        ),
        "cache": Refused(
            "auth.cache is not served: graphport calls @auth.authenticate on every request "
            "(cache inside your handler if it is slow); remove the key"
        ),
    },
    "http": {
        "app": SERVED,  # graphport.http_app
        "middleware_order": SERVED,
        "enable_custom_route_auth": SERVED,  # graphport.http_app with graphport.auth
        "disable_assistants": SERVED,
        "disable_threads": SERVED,
        "disable_runs": SERVED,
        "disable_store": SERVED,
        "disable_meta": SERVED,
        "disable_webhooks": SERVED,
        "disable_event_streaming": SERVED,
        "disable_ui": SERVED,
        "disable_console": SERVED,  # api/console.py
        "disable_mcp": SERVED,
        "disable_a2a": SERVED,
        "mount_prefix": SERVED,
        "cors": {
            "allow_origins": SERVED,
            "allow_methods": SERVED,
            "allow_headers": SERVED,
            "allow_credentials": SERVED,
            "allow_origin_regex": SERVED,
            "allow_private_network": SERVED,
            "expose_headers": SERVED,
            "max_age": SERVED,
        },
        "configurable_headers": _HEADERS,
        "logging_headers": _HEADERS,  # the access log shows the headers it picks
    },
    "webhooks": {
        "env_prefix": SERVED,
        "headers": SERVED,
        "allowed_fields": SERVED,
        "url": {
            "require_https": SERVED,
            "allowed_domains": SERVED,
            "allowed_ports": SERVED,
            "max_url_length": SERVED,
            "disable_loopback": SERVED,
            "disable_private_ips": SERVED,
        },
    },
}


def check_keys(
    raw: dict[str, Any], table: dict[str, Entry] = KEYS, where: str = ""
) -> list[tuple[int, str]]:
    """Refuse (ConfigError) the first key graphport does not serve; return the log lines
    (level, message) for image-build-only and unknown keys."""
    notes: list[tuple[int, str]] = []
    for key, value in raw.items():
        name = f"{where}{key}"
        entry = table.get(key)
        if entry is None:
            close = difflib.get_close_matches(key, list(table), n=1)
            hint = f" (did you mean '{where}{close[0]}'?)" if close else ""
            notes.append((logging.WARNING, f"langgraph.json: unknown key '{name}'{hint}, ignored"))
        elif isinstance(entry, Refused):
            if value is not None and not (entry.unless is not None and value == entry.unless):
                why = entry.why
                raise ConfigError(f"langgraph.json: '{name}' is not served by graphport: {why}")
        elif entry is IMAGE:
            notes.append(
                (logging.INFO, f"langgraph.json: '{name}' only matters to image builds; accepted")
            )
        elif isinstance(entry, dict) and value is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"langgraph.json: '{name}' must be an object, got {value!r}")
            notes += check_keys(value, entry, f"{name}.")
    return notes


@dataclasses.dataclass(frozen=True)
class StoreIndex:
    """`store.index`: semantic search over the store's items."""

    # "./file.py:obj", "pkg.module:obj", or a provider string ("openai:text-embedding-3-small")
    embed: str
    dims: int
    fields: tuple[str, ...] = ("$",)  # JSON paths embedded by default; "$" is the whole value
    # passed to langgraph's store as given: `distance_type`, `ann_index_config` (PostgreSQL)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class StoreTTL:
    """`store.ttl` (minutes). Always in force: an item `put` with its own `ttl` expires too."""

    refresh_on_read: bool = True
    default_ttl: float | None = None  # for items put without a ttl; None: they never expire
    sweep_interval_minutes: float = 5.0


@dataclasses.dataclass(frozen=True)
class ThreadTTL:
    """`checkpointer.ttl` (minutes): what happens to threads once their TTL has passed."""

    strategy: str = "delete"  # or "keep_latest": prune to the latest checkpoint, keep the thread
    default_ttl: float | None = None  # for threads created without a ttl; None: never expire
    sweep_interval_minutes: float | None = None  # None: GRAPHPORT_TTL_SWEEP_SECONDS (60 s)
    sweep_limit: int = 10_000  # threads handled per sweep

    @property
    def default(self) -> dict[str, Any] | None:
        """The TTL a thread created without one gets (as a thread's `ttl` is stored)."""
        if self.default_ttl is None:
            return None
        return {"strategy": self.strategy, "ttl": self.default_ttl}


@dataclasses.dataclass(frozen=True)
class StoreSettings:
    index: StoreIndex | None = None
    ttl: StoreTTL = StoreTTL()


@dataclasses.dataclass(frozen=True)
class Settings:
    config_path: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    database_url: str = ""
    jobs: int = DEFAULT_JOBS
    run_timeout: float = 86400.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    keepalive_seconds: float = KEEPALIVE_SECONDS
    log_level: str = "info"
    log_json: bool = False  # one JSON object per log line
    public_url: str = ""  # how clients reach this server (feedback links); default from host/port
    feedback_ttl: float = 7 * 86400.0
    stream_retention: float = 600.0  # seconds a resumable run's events are kept after it ends
    stream_max_events: int = 10_000  # events kept per resumable run (oldest dropped first)
    ttl_sweep_seconds: float = 60.0  # how often expired threads are looked for
    thread_ttl: ThreadTTL = ThreadTTL()  # checkpointer.ttl
    # Several processes on one PostgreSQL database (production mode)
    redis_url: str = ""  # the bus between processes: Redis pub/sub instead of LISTEN/NOTIFY
    workers: int = 1  # server processes started by `graphport serve` on this machine
    sqlite_shared: bool = False  # this process shares its SQLite file with others (--workers)
    heartbeat_seconds: float = 2.0  # how often a process says it is alive
    stale_after_seconds: float = 10.0  # silence after which its running runs are taken over
    max_attempts: int = 3  # executions of a run whose process dies before it is failed
    drain_seconds: float = 10.0  # on SIGTERM: how long running runs may finish
    # The parsed langgraph.json
    graphs: dict[str, Any] = dataclasses.field(default_factory=dict)
    dependencies: list[str] = dataclasses.field(default_factory=list)
    env: dict[str, str] | str | None = None
    http: dict[str, Any] = dataclasses.field(default_factory=dict)
    webhooks: dict[str, Any] = dataclasses.field(default_factory=dict)
    store: StoreSettings = StoreSettings()
    ui: dict[str, str] = dataclasses.field(default_factory=dict)  # graph id -> component file
    ui_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    ui_bundled: bool = False  # a `--workers` process: the parent bundled `ui` already
    auth: dict[str, Any] = dataclasses.field(default_factory=dict)  # the `auth` block
    dev: bool = False  # under `graphport dev` (Studio's requests may skip authentication)
    # What reading langgraph.json has to say (level, message), logged at start
    config_notes: tuple[tuple[int, str], ...] = ()

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file to use, ':memory:' for a throwaway server, None for other backends."""
        url = self.database_url
        if url in (":memory:", "sqlite://:memory:", "sqlite:///:memory:", "memory"):
            return ":memory:"
        if url.startswith("sqlite:///"):
            return url.removeprefix("sqlite:///")
        if url.startswith("sqlite://"):
            return url.removeprefix("sqlite://")
        if "://" in url:
            return None
        return url


# The reference's (langgraph-api's) names for the same settings: a manifest written for it runs
# unchanged. GRAPHPORT_* wins when both are set.
REFERENCE_ENV = {
    "JOBS": "N_JOBS_PER_WORKER",
    "RUN_TIMEOUT": "BG_JOB_TIMEOUT_SECS",
    "DATABASE_URL": "DATABASE_URI",
    "REDIS_URL": "REDIS_URI",
    "LOG_LEVEL": "LOG_LEVEL",
    "LOG_JSON": "LOG_JSON",
    "MOUNT_PREFIX": "MOUNT_PREFIX",
    "CORS_ALLOW_ORIGINS": "CORS_ALLOW_ORIGINS",
    "MAX_BODY_BYTES": "HTTP_MAX_REQUEST_BODY_BYTES",
}


def _env(name: str, default: Any) -> Any:
    value = os.environ.get(f"GRAPHPORT_{name}")
    if value is None and name in REFERENCE_ENV:
        value = os.environ.get(REFERENCE_ENV[name])
    return default if value is None else value


def _http(raw: dict[str, Any]) -> dict[str, Any]:
    """`http` of langgraph.json, with MOUNT_PREFIX and CORS_ALLOW_ORIGINS (comma-separated)
    filling what it leaves unset."""
    http = dict(raw)
    prefix = _env("MOUNT_PREFIX", "")
    if prefix and "mount_prefix" not in http:
        http["mount_prefix"] = prefix
    origins = _env("CORS_ALLOW_ORIGINS", "")
    if origins and "allow_origins" not in (http.get("cors") or {}):
        allowed = [o.strip() for o in origins.split(",") if o.strip()]
        http["cors"] = {**(http.get("cors") or {}), "allow_origins": allowed}
    return http


def _positive(value: Any, where: str, *, integer: bool = False) -> float:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        what = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"{where} must be {what}, got {value!r}")
    return value


def parse_store(raw: Any) -> StoreSettings:
    """The `store` block of langgraph.json: `{"index": {...}, "ttl": {...}}` (the embedding is
    only named here; `graphs.load_embeddings` imports it)."""
    if raw is None:
        return StoreSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"'store' must be an object, got {raw!r}")
    index = None
    if raw.get("index") is not None:
        spec = raw["index"]
        if not isinstance(spec, dict):
            raise ConfigError(f"store.index must be an object, got {spec!r}")
        embed = spec.get("embed")
        if not isinstance(embed, str) or ":" not in embed:
            raise ConfigError(
                "store.index.embed must name the embedding: a provider string such as "
                '"openai:text-embedding-3-small", or "./path/to/file.py:variable", '
                f"got {embed!r}"
            )
        if "dims" not in spec:
            raise ConfigError(
                "store.index.dims is required: the length of the embedding's vectors "
                "(e.g. 1536 for openai:text-embedding-3-small)"
            )
        dims = int(_positive(spec["dims"], "store.index.dims", integer=True))
        fields = spec.get("fields") or ["$"]
        if isinstance(fields, str):
            fields = [fields]
        if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
            raise ConfigError(
                f'store.index.fields must be a list of JSON paths such as ["text"], got {fields!r}'
            )
        extra = {k: spec[k] for k in ("distance_type", "ann_index_config") if k in spec}
        index = StoreIndex(embed=embed, dims=dims, fields=tuple(fields), extra=extra)
    ttl = StoreTTL()
    if raw.get("ttl") is not None:
        spec = raw["ttl"]
        if not isinstance(spec, dict):
            raise ConfigError(f"store.ttl must be an object, got {spec!r}")
        refresh = spec.get("refresh_on_read", True)
        if not isinstance(refresh, bool):
            raise ConfigError(f"store.ttl.refresh_on_read must be true or false, got {refresh!r}")
        default_ttl = spec.get("default_ttl")
        if default_ttl is not None:
            default_ttl = float(_positive(default_ttl, "store.ttl.default_ttl (minutes)"))
        sweep = spec.get("sweep_interval_minutes")
        ttl = StoreTTL(
            refresh_on_read=refresh,
            default_ttl=default_ttl,
            sweep_interval_minutes=(
                StoreTTL.sweep_interval_minutes
                if sweep is None
                else float(_positive(sweep, "store.ttl.sweep_interval_minutes"))
            ),
        )
    return StoreSettings(index=index, ttl=ttl)


def parse_thread_ttl(raw: Any) -> ThreadTTL:
    """`checkpointer.ttl` of langgraph.json."""
    if raw is None:
        return ThreadTTL()
    if not isinstance(raw, dict):
        raise ConfigError(f"checkpointer.ttl must be an object, got {raw!r}")
    strategy = raw.get("strategy") or "delete"
    if strategy not in ("delete", "keep_latest"):
        raise ConfigError(
            f"checkpointer.ttl.strategy must be 'delete' or 'keep_latest', got {strategy!r}"
        )
    default_ttl = raw.get("default_ttl")
    sweep = raw.get("sweep_interval_minutes")
    limit = raw.get("sweep_limit")
    return ThreadTTL(
        strategy=strategy,
        default_ttl=None
        if default_ttl is None
        else float(_positive(default_ttl, "checkpointer.ttl.default_ttl (minutes)")),
        sweep_interval_minutes=None
        if sweep is None
        else float(_positive(sweep, "checkpointer.ttl.sweep_interval_minutes")),
        sweep_limit=ThreadTTL.sweep_limit
        if limit is None
        else int(_positive(limit, "checkpointer.ttl.sweep_limit", integer=True)),
    )


def _reference_thread_ttl() -> Any:
    """The reference's LANGGRAPH_THREAD_TTL, which wins over `checkpointer.ttl` as it does
    there: minutes (strategy delete, swept every 5.1 minutes) or the block as JSON."""
    value = os.environ.get("LANGGRAPH_THREAD_TTL", "").strip()
    if not value:
        return None
    if value.startswith("{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"LANGGRAPH_THREAD_TTL is not valid JSON: {exc}") from exc
    try:
        minutes = float(value)
    except ValueError:
        raise ConfigError(
            f"LANGGRAPH_THREAD_TTL must be minutes or a JSON object, got {value!r}"
        ) from None
    return {"strategy": "delete", "default_ttl": minutes, "sweep_interval_minutes": 5.1}


def parse_ui(raw: Any, ui_config: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """`ui` (graph id -> a .tsx/.jsx file, relative to langgraph.json) and `ui_config`
    (`shared`: packages the host page provides, left out of the bundles)."""
    ui = raw or {}
    if not isinstance(ui, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in ui.items()
    ):
        example = '{"agent": "./src/agent/ui.tsx"}'
        raise ConfigError(f"'ui' must map graph ids to files, e.g. {example}, got {ui!r}")
    shared = (ui_config or {}).get("shared") or []
    if not isinstance(shared, list) or not all(isinstance(p, str) and p for p in shared):
        raise ConfigError(f"ui_config.shared must be a list of package names, got {shared!r}")
    return dict(ui), {"shared": list(shared)}


def parse_auth(raw: Any) -> dict[str, Any]:
    """The `auth` block: `path` names a langgraph_sdk.Auth object (graphport.auth loads it)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError('\'auth\' must be an object, e.g. {"path": "./auth.py:auth"}')
    openapi = raw.get("openapi")
    if openapi is not None and not isinstance(openapi, dict):
        raise ConfigError("auth.openapi must be an object (securitySchemes, security)")
    return dict(raw)


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"Config file not found: {path}")
    try:
        raw = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("graphs"), dict) or not raw["graphs"]:
        raise ConfigError(f"{path} must contain a non-empty 'graphs' object")
    return raw


def _sweep_seconds(thread_ttl: ThreadTTL) -> float:
    """GRAPHPORT_TTL_SWEEP_SECONDS, else checkpointer.ttl.sweep_interval_minutes, else 60 s."""
    if _env("TTL_SWEEP_SECONDS", None) is None and thread_ttl.sweep_interval_minutes is not None:
        return thread_ttl.sweep_interval_minutes * 60
    return float(_env("TTL_SWEEP_SECONDS", 60.0))


def load_settings(
    config: str | None = None,
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
    jobs: int | None = None,
    redis_url: str | None = None,
    workers: int | None = None,
    log_level: str | None = None,
) -> Settings:
    """Merge command-line values over GRAPHPORT_* variables over defaults, and read the config."""
    config_path = Path(config or _env("CONFIG", "langgraph.json")).resolve()
    raw = _read_config(config_path)
    notes = check_keys(raw)
    ui, ui_config = parse_ui(raw.get("ui"), raw.get("ui_config"))
    thread_ttl = parse_thread_ttl(
        _reference_thread_ttl() or (raw.get("checkpointer") or {}).get("ttl")
    )
    db = database_url if database_url is not None else _env("DATABASE_URL", "")
    if not db:
        db = str(config_path.parent / ".graphport" / "graphport.sqlite")
    return Settings(
        config_path=config_path,
        host=host or _env("HOST", "127.0.0.1"),
        port=int(port if port is not None else _env("PORT", DEFAULT_PORT)),
        database_url=db,
        jobs=max(1, int(jobs if jobs is not None else _env("JOBS", DEFAULT_JOBS))),
        run_timeout=float(_env("RUN_TIMEOUT", 86400.0)),
        max_body_bytes=int(_env("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
        keepalive_seconds=float(_env("KEEPALIVE_SECONDS", KEEPALIVE_SECONDS)),
        log_level=str(log_level or _env("LOG_LEVEL", "info")).lower(),
        log_json=str(_env("LOG_JSON", "")).lower() in ("1", "true", "yes"),
        public_url=str(_env("PUBLIC_URL", "")),
        feedback_ttl=float(_env("FEEDBACK_TTL_SECONDS", 7 * 86400.0)),
        stream_retention=float(_env("STREAM_RETENTION_SECONDS", 600.0)),
        stream_max_events=int(_env("STREAM_MAX_EVENTS", 10_000)),
        ttl_sweep_seconds=_sweep_seconds(thread_ttl),
        thread_ttl=thread_ttl,
        redis_url=redis_url if redis_url is not None else str(_env("REDIS_URL", "")),
        workers=max(1, int(workers if workers is not None else _env("WORKERS", 1))),
        sqlite_shared=_env("SQLITE_SHARED", "") not in ("", "0", "false"),
        heartbeat_seconds=float(_env("HEARTBEAT_SECONDS", 2.0)),
        stale_after_seconds=float(_env("STALE_AFTER_SECONDS", 10.0)),
        max_attempts=max(1, int(_env("MAX_ATTEMPTS", 3))),
        drain_seconds=float(_env("DRAIN_SECONDS", 10.0)),
        graphs=raw["graphs"],
        dependencies=list(raw.get("dependencies") or []),
        env=raw.get("env"),
        http=_http(raw.get("http") or {}),
        webhooks=dict(raw.get("webhooks") or {}),
        store=parse_store(raw.get("store")),
        ui=ui,
        ui_config=ui_config,
        ui_bundled=_env("UI_BUNDLED", "") not in ("", "0", "false"),
        auth=parse_auth(raw.get("auth")),
        dev=_env("DEV", "") not in ("", "0", "false"),
        config_notes=tuple(notes),
    )
