"""`http.app` of langgraph.json: a Starlette or FastAPI app served beside the API.

As the reference does: its routes are tried before the API's (so `GET /` or `/info` may be
replaced, but not `/ok`, `/metrics`, `/docs` or `/openapi.json`), its middleware wraps every
response (the API's, errors and streams too), its exception handlers win, and its lifespan runs
inside graphport's. Beyond the reference, what that lifespan yields reaches `request.state`.

`http.middleware_order`: `middleware_first` (the default) puts the app's middleware outside
everything; `auth_first` puts it inside, around each route after authentication.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from graphport.config import ConfigError, Settings

MIDDLEWARE_ORDERS = ("middleware_first", "auth_first")


class Group(BaseRoute):
    """Routes sharing middleware, matched as if they were listed in its place (a `Mount("")`
    with middleware would swallow every path, so no route after it could match)."""

    def __init__(self, routes: Sequence[BaseRoute], middleware: Sequence[Middleware]) -> None:
        self.routes = list(routes)
        self._key = f"graphport.group.{id(self)}"
        app: ASGIApp = self._dispatch
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {"route": route, **child, self._key: route}
            if match is Match.PARTIAL and partial is None:
                partial = route, child
        if partial is None:
            return Match.NONE, {}
        route, child = partial
        return Match.PARTIAL, {"route": route, **child, self._key: route}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        from starlette.routing import NoMatchFound

        for route in self.routes:
            with contextlib.suppress(NoMatchFound):
                return route.url_path_for(name, **path_params)
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[self._key].handle(scope, receive, send)


def group(routes: Sequence[BaseRoute], middleware: Sequence[Middleware]) -> list[BaseRoute]:
    return [Group(routes, middleware)] if middleware and routes else list(routes)


def load_custom_app(settings: Settings) -> Starlette | None:
    """Import `http.app` (after the graphs: `dependencies` are on sys.path by then)."""
    from graphport.graphs import import_checked

    spec = settings.http.get("app")
    if spec is None:
        return None
    app: Starlette = import_checked(
        spec, settings.base_dir, "http.app", Starlette, "app", "a Starlette or FastAPI app"
    )  # FastAPI is a Starlette
    if getattr(app.router, "on_startup", None) or getattr(app.router, "on_shutdown", None):
        raise ConfigError(
            f"http.app {spec!r} uses on_startup/on_shutdown handlers; give it a lifespan instead"
        )
    return app


def middleware_order(http: dict[str, Any]) -> str:
    order = http.get("middleware_order") or "middleware_first"
    if order not in MIDDLEWARE_ORDERS:
        raise ConfigError(
            f"http.middleware_order must be one of {', '.join(MIDDLEWARE_ORDERS)}, got {order!r}"
        )
    return str(order)


@dataclasses.dataclass
class Composition:
    """What the served application is made of."""

    routes: list[BaseRoute]
    middleware: list[Middleware]  # outermost first, around everything
    custom_routes: list[BaseRoute]  # the custom app's, as it declared them (for OpenAPI)


def compose(
    settings: Settings,
    *,
    fixed: list[BaseRoute],
    meta: list[BaseRoute],
    api: list[BaseRoute],
    root: list[BaseRoute],
    custom: Starlette | None,
    auth: Sequence[Middleware] = (),
) -> Composition:
    """Order the routes and middleware: `fixed` (not replaceable), the custom app's, `meta`
    (replaceable), the API behind `auth`; all under `http.mount_prefix`, with `root` (health
    checks) outside it."""
    http = settings.http
    order = middleware_order(http)
    custom_auth = list(auth) if http.get("enable_custom_route_auth") else []
    if http.get("enable_custom_route_auth") and not auth:
        raise ConfigError(
            "http.enable_custom_route_auth is set but no authentication is configured "
            "(the `auth` block of langgraph.json)"
        )
    user_routes = list(custom.routes) if custom is not None else []
    user_mw = list(custom.user_middleware) if custom is not None else []
    outer, inner = (user_mw, []) if order == "middleware_first" else ([], user_mw)
    routes = [
        *group(fixed, inner),
        *group(user_routes, [*custom_auth, *inner]),
        *group(meta, inner),
        *group(api, [*auth, *inner]),
    ]
    prefix = http.get("mount_prefix")
    if prefix:
        if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.endswith("/"):
            raise ConfigError(
                f"http.mount_prefix must start with '/' and not end with '/' (e.g. '/api'), "
                f"got {prefix!r}"
            )
        routes = [*group(root, inner), Mount(prefix, routes=routes)]
    return Composition(routes=routes, middleware=outer, custom_routes=user_routes)


def combine_lifespans(
    ours: Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]],
    custom: Starlette | None,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[Any]]:
    """graphport's lifespan around the custom app's; what the latter yields (a mapping) is the
    state every request starts with (`request.state`)."""
    if custom is None:
        return ours
    theirs = custom.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[Any]:
        async with ours(app), theirs(custom) as state:
            yield state

    return lifespan
