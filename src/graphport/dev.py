"""`graphport dev`: `serve` for the daily loop. A watcher process (watchfiles.run_process) starts a
server process and starts it again on every change of the graphs' files or langgraph.json; the data
stays in the SQLite file beside the config unless `--database-url :memory:`.

Why run_process and not uvicorn's `reload`: the server process loads the graphs itself, so an import
error ends that process (its traceback printed) while the watcher waits for the next edit; uvicorn's
reloader would import the app in its own way, and its change messages name no file of ours."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from graphport.config import ConfigError, load_settings

# The last seven: langgraph.json's `ui` components, bundled again by the restart (node_modules is
# never watched)
WATCHED_SUFFIXES: tuple[str, ...] = (".py", ".json", ".toml", ".env", ".yaml", ".yml")
WATCHED_SUFFIXES += (".tsx", ".jsx", ".ts", ".mts", ".js", ".mjs", ".css")
COLOURS = {"DEBUG": "\x1b[2m", "INFO": "\x1b[32m", "WARNING": "\x1b[33m", "ERROR": "\x1b[31m"}
COLOURS["CRITICAL"] = COLOURS["ERROR"]


def use_colour(stream: Any) -> bool:
    """Colour on a terminal, never with NO_COLOR (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and bool(getattr(stream, "isatty", lambda: False)())


class DevFormatter(logging.Formatter):
    """`12:00:01 INFO graphport.worker: ...`, the level coloured on a terminal."""

    def __init__(self, colour: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        if not self.colour:
            return super().format(record)
        plain = record.levelname
        record.levelname = f"{COLOURS.get(plain, '')}{plain}\x1b[0m"
        try:
            return super().format(record)
        finally:
            record.levelname = plain


def _logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(DevFormatter(use_colour(sys.stderr)))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("watchfiles").setLevel(logging.ERROR)  # we say what changed ourselves


def _say(message: str) -> None:
    bold = use_colour(sys.stderr)
    print(f"\x1b[1m{message}\x1b[0m" if bold else message, file=sys.stderr, flush=True)


def banner(base_url: str, http: dict[str, Any] | None = None) -> str:
    """The URLs to open, under `http.mount_prefix`; a page the `http` block turns off is left
    out."""
    http = http or {}
    api = base_url + (http.get("mount_prefix") or "")
    lines = [f"graphport dev: serving on {base_url}", f"  API:     {api}"]
    if not http.get("disable_meta"):
        lines.append(f"  Docs:    {api}/docs")
        if not http.get("disable_console"):
            lines.append(f"  Console: {api}/console")
    lines.append(f"  Studio:  https://smith.langchain.com/studio/?baseUrl={api}")
    return "\n".join(lines)


def watched_dirs(config_dir: Path, graphs: dict[str, Any]) -> list[Path]:
    """The config's folder and the folder of each graph file outside it."""
    dirs = [config_dir]
    for spec in graphs.values():
        path = spec.get("path") if isinstance(spec, dict) else spec
        if not isinstance(path, str) or ":" not in path:
            continue
        file = (config_dir / path.rsplit(":", 1)[0]).resolve()
        if file.suffix == ".py" and not file.is_relative_to(config_dir):
            dirs.append(file.parent)
    return dirs


def _filter() -> Any:
    from watchfiles import DefaultFilter

    class SourceFilter(DefaultFilter):
        """Sources and config only: never graphport's own database folder."""

        def __init__(self) -> None:
            super().__init__(ignore_dirs=(*self.ignore_dirs, ".graphport"))

        def __call__(self, change: Any, path: str) -> bool:
            return path.endswith(WATCHED_SUFFIXES) and super().__call__(change, path)

    return SourceFilter()


def run(options: dict[str, Any]) -> None:
    """The watcher: checks the options once, then serves until Ctrl-C, restarting on changes."""
    import watchfiles

    _logging(options.get("log_level") or "info")
    os.environ["GRAPHPORT_DEV"] = "1"  # the server processes know they serve `dev` (Studio auth)
    try:
        settings = load_settings(**options)
    except ConfigError as exc:
        print(f"graphport: {exc}", file=sys.stderr)
        sys.exit(1)
    if settings.workers > 1:
        print("graphport: dev serves one process; drop --workers", file=sys.stderr)
        sys.exit(1)
    dirs = watched_dirs(settings.base_dir, settings.graphs)
    where = ", ".join(str(d) for d in dirs)
    _say(f"graphport dev: watching {where}; data in {settings.database_url or 'the default'}")

    def changed(changes: set[tuple[Any, str]]) -> None:
        names = sorted({os.path.relpath(path, settings.base_dir) for _, path in changes})
        _say(f"graphport dev: {', '.join(names)} changed; reloading")

    watchfiles.run_process(
        *dirs,
        target=serve_once,
        args=(options,),
        callback=changed,
        watch_filter=_filter(),
        grace_period=0,
    )


def serve_once(options: dict[str, Any]) -> None:
    """One server process: load the graphs (an error is printed, with its file and line, and this
    process ends: the watcher waits for the next edit), then serve."""
    try:
        _serve_once(options)
    except KeyboardInterrupt:  # the watcher stops us (SIGINT) to reload: no traceback
        pass


def _serve_once(options: dict[str, Any]) -> None:
    _logging(options.get("log_level") or "info")
    log = logging.getLogger("graphport.dev")
    from graphport.app import create_app
    from graphport.graphs import load_graphs

    try:
        settings = load_settings(**options)
        for level, message in settings.config_notes:
            logging.getLogger("graphport.config").log(level, message)
        graphs = load_graphs(settings)
        app = create_app(settings, graphs)
    except ConfigError as exc:
        log.error("the graphs did not load: %s%s", exc, f"\n{exc.details}" if exc.details else "")
        cause = exc.__cause__ or exc.__context__
        if cause is not None and not exc.details:
            traceback.print_exception(cause, file=sys.stderr)
        _say("graphport dev: waiting for a change to reload")
        return
    except Exception:
        log.exception("the graphs did not load")
        _say("graphport dev: waiting for a change to reload")
        return
    import uvicorn

    class Server(uvicorn.Server):
        def _log_started_message(self, listeners: Any) -> None:
            _say(banner(settings.base_url, settings.http))  # only once the port is bound

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(min(settings.drain_seconds, 5)),
    )
    Server(config).run()
