"""Generative UI: the components of langgraph.json's `ui` block, bundled at start.

Each `ui` entry (graph id -> a .tsx/.jsx file whose default export maps component names to React
components) is bundled by esbuild, run with node from a small build folder (`ui_build/`: its
package.json and lock pin esbuild and its Tailwind plugin). The folder is installed once with npm
under the data directory (`.graphport/ui/` beside langgraph.json) and the bundles are written
there too, rebuilt at every start (esbuild takes well under a second). POST /ui/{graph_id}
(api/ui.py) answers the tags that load them.

No node or npm, or a component that does not compile: the server refuses to start with one line
saying why (`http.disable_ui: true` skips the bundling).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import shutil
import subprocess
from pathlib import Path

from graphport.config import ConfigError, Settings

log = logging.getLogger("graphport.ui")

_BUILD_SOURCE = Path(__file__).resolve().parent / "ui_build"
_BUILD_FILES = ("package.json", "package-lock.json", "build.mjs")
_MANIFEST = "assets.json"
_NPM_SECONDS = 600.0  # the first install downloads esbuild (~10 MB) and Tailwind
_BUILD_SECONDS = 300.0


@dataclasses.dataclass(frozen=True)
class Bundles:
    """What was bundled: for each graph id, its asset files (in the order esbuild wrote them)."""

    folder: Path  # <folder>/<graph_id>/<file>
    assets: dict[str, tuple[str, ...]]

    def file(self, graph_id: str, name: str) -> Path | None:
        """The bundled file, or None when `name` is not one of the graph's assets."""
        if name not in self.assets.get(graph_id, ()):
            return None
        return self.folder / graph_id / name


NONE = Bundles(Path(), {})


def ui_dir(settings: Settings) -> Path:
    return settings.base_dir / ".graphport" / "ui"


def prepare(settings: Settings) -> Bundles:
    """Bundle the `ui` block (or, with `ui_bundled`, load what the parent process bundled)."""
    if not settings.ui or settings.http.get("disable_ui"):
        return NONE
    root = ui_dir(settings)
    if settings.ui_bundled:
        return _load(root)
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:  # `graphport serve` twice on one project
        fcntl.flock(lock, fcntl.LOCK_EX)
        build = _install(root / "build")
        _bundle(settings, build, root / "public")
    bundles = _load(root)
    for graph_id, names in bundles.assets.items():
        log.info("ui: %s bundled (%s)", graph_id, ", ".join(names))
    return bundles


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigError(
            f"langgraph.json 'ui' needs Node.js and npm to bundle its components, and '{name}' "
            "is not on PATH: install Node.js (https://nodejs.org), or set http.disable_ui: true"
        )
    return path


def _install(build: Path) -> Path:
    """The build folder with its node_modules; npm runs only when the shipped files changed."""
    _tool("node")
    npm = _tool("npm")
    build.mkdir(exist_ok=True)
    wanted = {name: (_BUILD_SOURCE / name).read_bytes() for name in _BUILD_FILES}
    current = all(
        (build / name).is_file() and (build / name).read_bytes() == data
        for name, data in wanted.items()
    )
    if current and (build / "node_modules" / "esbuild").is_dir():
        return build
    for name, data in wanted.items():
        (build / name).write_bytes(data)
    log.info("ui: installing esbuild with npm into %s (once)", build)
    args = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    _run(args, build, _NPM_SECONDS, what="npm ci (installing esbuild)")
    return build


def _bundle(settings: Settings, build: Path, out: Path) -> None:
    job = {
        "cwd": str(settings.base_dir),
        "out": str(out),
        "defs": settings.ui,
        "shared": list(settings.ui_config.get("shared") or []),
    }
    written = _run(
        [_tool("node"), str(build / "build.mjs"), json.dumps(job)],
        settings.base_dir,  # Tailwind looks for the classes in use from the working directory
        _BUILD_SECONDS,
        what="bundling the 'ui' components",
    )
    (out.parent / _MANIFEST).write_text(written)


def _run(args: list[str], cwd: Path, timeout: float, what: str) -> str:
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"ui: {what} did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0:
        error = ConfigError(f"ui: {what} failed: {_first_line(done.stderr)}")
        error.details = done.stderr.strip()
        raise error
    return done.stdout


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def _load(root: Path) -> Bundles:
    try:
        assets = json.loads((root / _MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"ui: no bundles in {root} ({exc})") from exc
    return Bundles(root / "public", {g: tuple(names) for g, names in assets.items()})
