"""The access log: one line per HTTP request (method, path, status, milliseconds), at INFO below
400, WARNING below 500, ERROR above; `http.logging_headers` picks request headers to show."""

from __future__ import annotations

import fnmatch
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("graphport.access")
QUIET_PATHS = {"/ok", "/metrics"}  # health checks and scrapes would drown the rest
NEVER_LOGGED = {"authorization", "cookie", "set-cookie", "x-api-key"}


def header_rules(rules: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """(includes, excludes) of a `configurable_headers` / `logging_headers` block, with the
    reference's `include` / `exclude` aliases."""
    rules = rules or {}
    includes = rules.get("includes") or rules.get("include") or []
    excludes = rules.get("excludes") or rules.get("exclude") or []
    return [p.lower() for p in includes], [p.lower() for p in excludes]


class AccessLog:
    def __init__(self, app: ASGIApp, http: dict[str, Any]) -> None:
        self.app = app
        self.includes, self.excludes = header_rules(http.get("logging_headers"))
        self.prefix = http.get("mount_prefix") or ""

    def _headers(self, scope: Scope) -> str:
        if not self.includes:  # the default: no header is logged
            return ""
        shown = []
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            if name in NEVER_LOGGED or any(fnmatch.fnmatchcase(name, p) for p in self.excludes):
                continue
            if any(fnmatch.fnmatchcase(name, p) for p in self.includes):
                shown.append(f"{name}={raw_value.decode('latin-1')}")
        return (" " + " ".join(shown)) if shown else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.removeprefix(self.prefix) in QUIET_PATHS:
            await self.app(scope, receive, send)
            return
        start = time.monotonic()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            level = logging.INFO if status < 400 else logging.ERROR
            if 400 <= status < 500:
                level = logging.WARNING
            query = scope.get("query_string", b"").decode("latin-1")
            log.log(
                level, "%s %s%s %d %dms%s", scope["method"], path, f"?{query}" if query else "",
                status, (time.monotonic() - start) * 1000, self._headers(scope),
            )  # fmt: skip
