"""The `graphport` command: `graphport serve`, `graphport dev` (serve, reloading on every edit) and
`graphport migrate` (every option also a GRAPHPORT_* variable)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from typing import Any, NoReturn

from graphport import __version__
from graphport.config import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphport", description=__doc__)
    parser.add_argument("--version", action="version", version=f"graphport {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve the graphs of a langgraph.json")
    serve.add_argument("--config", help="path of langgraph.json [GRAPHPORT_CONFIG]")
    serve.add_argument("--host", help="interface to listen on [GRAPHPORT_HOST, 127.0.0.1]")
    serve.add_argument("--port", type=int, help="port [GRAPHPORT_PORT, 8123]")
    serve.add_argument(
        "--database-url",
        help="SQLite file, sqlite:///path, :memory: or postgresql://... [GRAPHPORT_DATABASE_URL, "
        ".graphport/graphport.sqlite beside the config]",
    )
    serve.add_argument(
        "--jobs", type=int, help="runs executed at once, per process [GRAPHPORT_JOBS, 100]"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="server processes on this machine, sharing the port and the database "
        "[GRAPHPORT_WORKERS, 1]",
    )
    serve.add_argument(
        "--redis-url",
        help="redis://... : the bus between processes (default: PostgreSQL LISTEN/NOTIFY) "
        "[GRAPHPORT_REDIS_URL]",
    )
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="[GRAPHPORT_LOG_LEVEL or LOG_LEVEL, info]; GRAPHPORT_LOG_JSON=1 (or LOG_JSON=1) "
        "logs one JSON object per line",
    )
    dev = sub.add_parser("dev", help="serve, reloading on every change of the graphs' files")
    dev.add_argument("--config", help="path of langgraph.json [GRAPHPORT_CONFIG]")
    dev.add_argument("--host", help="interface to listen on [GRAPHPORT_HOST, 127.0.0.1]")
    dev.add_argument("--port", type=int, help="port [GRAPHPORT_PORT, 8123]")
    dev.add_argument(
        "--database-url",
        help="kept across reloads: SQLite file (default .graphport/graphport.sqlite beside the "
        "config), :memory: to throw the data away, or postgresql://... [GRAPHPORT_DATABASE_URL]",
    )
    dev.add_argument("--jobs", type=int, help="runs executed at once [GRAPHPORT_JOBS, 100]")
    dev.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="[GRAPHPORT_LOG_LEVEL or LOG_LEVEL, info]",
    )
    migrate = sub.add_parser("migrate", help="apply the database migrations, then exit")
    migrate.add_argument("--config", help="path of langgraph.json [GRAPHPORT_CONFIG]")
    migrate.add_argument(
        "--database-url",
        help="SQLite file, sqlite:///path or postgresql://... [GRAPHPORT_DATABASE_URL, "
        ".graphport/graphport.sqlite beside the config]",
    )
    return parser


def _migrate(config: str | None, database_url: str | None) -> None:
    """Apply every migration (graphport's tables, langgraph's checkpointer and store)."""
    import asyncio
    import os
    from pathlib import Path

    from graphport import errors
    from graphport.config import Settings
    from graphport.graphs import load_embeddings
    from graphport.storage import open_storage

    logging.basicConfig(level="INFO", format="%(levelname)s %(name)s: %(message)s")
    url = database_url or os.environ.get("GRAPHPORT_DATABASE_URL")
    try:
        if url:  # no langgraph.json needed
            settings = Settings(Path(config or "langgraph.json").resolve(), database_url=url)
        else:
            settings = load_settings(config=config)
        storage = open_storage(settings, load_embeddings(settings))
    except ConfigError as exc:
        print(f"graphport: {exc}", file=sys.stderr)
        sys.exit(1)

    async def apply() -> None:
        await storage.open()  # opening applies the migrations
        await storage.close()

    try:
        asyncio.run(apply())
    except errors.GraphportError as exc:
        print(f"graphport: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"graphport: the database is up to date ({storage.location})")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "migrate":
        _migrate(args.config, args.database_url)
        return
    if args.command == "dev":
        from graphport import dev

        keys = ("config", "host", "port", "database_url", "jobs", "log_level")
        dev.run({key: getattr(args, key) for key in keys})
        return
    if args.command != "serve":
        _parser().print_help()
        sys.exit(2)
    _serve(args)


def _serve_settings(args: argparse.Namespace) -> Settings:
    """The settings of `graphport serve`, or exit with one line saying what is wrong."""
    try:
        settings = load_settings(
            config=args.config,
            host=args.host,
            port=args.port,
            database_url=args.database_url,
            jobs=args.jobs,
            redis_url=args.redis_url,
            workers=args.workers,
            log_level=args.log_level,
        )
        if settings.workers > 1 and settings.sqlite_path == ":memory:":
            raise ConfigError(
                "--workers > 1 needs a database the processes can share: a SQLite file or "
                "PostgreSQL, not :memory:"
            )
    except ConfigError as exc:
        print(f"graphport: {exc}", file=sys.stderr)
        sys.exit(1)
    return settings


def _serve(args: argparse.Namespace) -> None:
    settings = _serve_settings(args)
    _logging(settings.log_level, settings.log_json)
    for level, message in settings.config_notes:
        logging.getLogger("graphport.config").log(level, message)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "log_config": None,  # its lines go through graphport's handler (JSON with LOG_JSON)
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": settings.drain_seconds,
    }
    if settings.workers == 1:
        _serve_one(settings, options)
    else:
        _serve_many(settings, options)


def _serve_one(settings: Settings, options: dict[str, Any]) -> None:
    import uvicorn

    app = _checked_app(settings)
    server = _server_class()(uvicorn.Config(app, **options))
    server.serve_address = settings.base_url
    server.run()
    if not server.started:  # the port is taken (uvicorn said so) or start-up failed
        sys.exit(1)


def _serve_many(settings: Settings, options: dict[str, Any]) -> None:
    """uvicorn's supervisor: N processes on one port (a socket each: listening.py), a dead one
    replaced, SIGTERM passed on. Each builds its settings again from the environment, so the
    options go there."""
    os.environ.update(
        GRAPHPORT_CONFIG=str(settings.config_path),
        GRAPHPORT_HOST=settings.host,
        GRAPHPORT_PORT=str(settings.port),
        GRAPHPORT_DATABASE_URL=settings.database_url,
        GRAPHPORT_JOBS=str(settings.jobs),
        GRAPHPORT_REDIS_URL=settings.redis_url,
        GRAPHPORT_WORKERS="1",
        GRAPHPORT_LOG_LEVEL=settings.log_level,
        GRAPHPORT_LOG_JSON="1" if settings.log_json else "",
        GRAPHPORT_SQLITE_SHARED="1",  # (only read with a SQLite file)
        GRAPHPORT_UI_BUNDLED="1",  # the check below bundles the `ui` block once
    )
    _check_in_child()
    _share_metrics()
    _supervise(settings, options)


def _checked_app(settings: Settings) -> Any:
    """The app, or exit with one line: a broken graph, `http.app` or database stops the start
    here rather than in the lifespan."""
    from graphport.app import create_app
    from graphport.graphs import load_graphs

    try:
        app = create_app(settings, load_graphs(settings))
        _check_database(settings)
    except ConfigError as exc:
        _refuse(exc)
    return app


def _check_in_child() -> None:
    """`--workers N`: the same check as one process, in a child that exits afterwards, so that the
    supervisor never imports the graphs (it stays ~30 MB instead of a worker's ~100 MB)."""
    import subprocess

    env = {**os.environ, "GRAPHPORT_UI_BUNDLED": ""}  # the child bundles `ui` for the workers
    code = "from graphport.cli import check_from_env; check_from_env()"
    if subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode != 0:
        sys.exit(1)  # the child said why on stderr


def check_from_env() -> None:
    """The child of `_check_in_child` (settings from GRAPHPORT_*, as the workers will read them)."""
    settings = load_settings()
    _logging(settings.log_level, settings.log_json)
    _checked_app(settings)


def _supervise(settings: Settings, options: dict[str, Any]) -> None:
    """uvicorn's supervisor on a socket bound first, so that "serving on" follows the bind (a
    taken port is uvicorn's one line and exit 3, as with one process)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from graphport.listening import supervisor_socket

    config = uvicorn.Config(
        "graphport.cli:app_from_env", factory=True, workers=settings.workers, **options
    )
    sock = supervisor_socket(config.bind_socket())  # one socket per worker (listening.py)
    logging.getLogger("graphport").info(
        "serving on %s (%d processes)", settings.base_url, settings.workers
    )
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass


def _share_metrics() -> None:
    """The worker processes write their metrics to one directory, so one scrape of any of
    them shows the whole server (graphport.metrics). An operator's own directory is kept."""
    import atexit
    import shutil
    import tempfile

    from graphport.metrics import MULTIPROC_ENV

    if not os.environ.get(MULTIPROC_ENV):
        directory = tempfile.mkdtemp(prefix="graphport-metrics-")
        os.environ[MULTIPROC_ENV] = directory
        atexit.register(shutil.rmtree, directory, ignore_errors=True)


def _refuse(exc: ConfigError) -> NoReturn:
    print(f"graphport: {exc}", file=sys.stderr)
    if exc.details:
        print(exc.details, file=sys.stderr)
    sys.exit(1)


def _check_database(settings: Any) -> None:
    """A bad URL scheme, a SQLite file that cannot be opened, an unreachable PostgreSQL or
    Redis: one line and exit 1, before serving (not a traceback from the lifespan)."""
    from graphport.storage import check_database_url

    check_database_url(settings)
    if settings.sqlite_path is None:
        _reach_postgres(settings.database_url)
    elif settings.sqlite_path != ":memory:":
        _open_sqlite(settings.sqlite_path)
    if settings.redis_url:
        _reach_redis(settings.redis_url)


def _reach_postgres(url: str) -> None:
    import asyncio

    from graphport import errors
    from graphport.storage.postgres import PostgresStorage

    # reachability only: the store (and the embeddings it would load) plays no part
    storage = PostgresStorage(url)

    async def reach() -> None:
        await storage.open()
        await storage.close()

    try:
        asyncio.run(reach())
    except errors.GraphportError as exc:
        raise ConfigError(str(exc).splitlines()[0]) from exc


def _open_sqlite(path: str) -> None:
    import sqlite3
    from pathlib import Path

    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA schema_version")  # fails on a file that is not a database
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the SQLite database {path}: {exc}") from exc


def _reach_redis(url: str) -> None:
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5) as client:
            client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"Redis is not reachable at {url}: {exc}") from exc


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, saying "serving on" once the port is bound, not before."""

        serve_address = ""

        def _log_started_message(self, listeners: Any) -> None:
            logging.getLogger("graphport").info("serving on %s", self.serve_address)

    return Server


class JSONFormatter(logging.Formatter):
    """One JSON object per line (GRAPHPORT_LOG_JSON=1), for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        import orjson

        entry: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _logging(level: str, as_json: bool = False) -> None:
    from graphport.log_handler import LoopBatchedHandler

    handler = LoopBatchedHandler()
    if as_json:
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
        )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def app_from_env() -> Any:
    """The application of one of `--workers` processes (settings from GRAPHPORT_*)."""
    from graphport.app import create_app

    settings = load_settings()
    _logging(settings.log_level, settings.log_json)
    return create_app(settings)


if __name__ == "__main__":
    main()
