"""Custom auth from langgraph.json (`auth.path`): a `langgraph_sdk.Auth` object's handlers.

`Authorizer.authenticate` runs `@auth.authenticate` for a request and gives a `Session`; the
`Authenticate` middleware (graphport.auth.middleware) makes it the request's. `authorize(...)`,
called by the HTTP layer for each resource and action, runs the most specific `@auth.on`
handler: it may allow (None/True), deny (False: 403), change the value it is given (what it
stamps into `value["metadata"]` is stored) or return a filter (graphport.auth.filters).

Without `auth.path` there is no session and `authorize` returns at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import orjson
from langgraph_sdk import Auth
from langgraph_sdk.auth.exceptions import HTTPException as AuthHTTPException
from langgraph_sdk.auth.types import AuthContext, StudioUser
from starlette.requests import Request
from starlette.types import Receive, Scope

from graphport import errors
from graphport.auth.filters import BadFilter, Conditions, normalise
from graphport.auth.users import AuthUser, BadUser, normalise_user
from graphport.config import ConfigError, Settings

log = logging.getLogger("graphport.auth")

# The parameters `@auth.authenticate` may ask for by name (langgraph_sdk documents them).
AUTHENTICATE_PARAMS = frozenset(
    {"request", "body", "path", "method", "path_params", "query_params", "headers",
     "authorization", "scope", "user"}
)  # fmt: skip
STUDIO_USER = "langgraph-studio-user"


@dataclasses.dataclass(frozen=True, slots=True)
class Session:
    """Who is asking, for the length of one request."""

    authorizer: Authorizer | None  # None: acting for a user outside a request (a cron firing)
    user: Any  # what handlers see as ctx.user
    as_dict: AuthUser  # the same user stored with runs and given to graphs
    permissions: tuple[str, ...]

    @property
    def identity(self) -> str:
        return self.as_dict.identity


CURRENT: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "graphport_auth_session", default=None
)


def current() -> Session | None:
    return CURRENT.get()


async def authorize(resource: str, action: str, value: dict[str, Any]) -> Conditions | None:
    """Run the handler for (resource, action) on `value` for the current request's user; the
    filter it returned (normalised), None if it returned none. Forbidden if it said no."""
    session = CURRENT.get()
    if session is None or session.authorizer is None:
        return None
    return await session.authorizer.authorize(session, resource, action, value)


@contextlib.contextmanager
def acting_for(user_id: str | None) -> Iterator[None]:
    """Work done later for a user (a cron's runs): the runs carry the user's identity; nothing
    is authorized again (that happened when the work was asked for)."""
    if not user_id:
        yield
        return
    user = AuthUser(identity=user_id, display_name=user_id, is_authenticated=True, permissions=[])
    token = CURRENT.set(Session(None, user, user, ()))
    try:
        yield
    finally:
        CURRENT.reset(token)


class Headers(dict[bytes, bytes]):
    """Request headers as `@auth.authenticate` gets them: bytes keys as in the ASGI scope (the
    reference's), looked up by `str` keys too, case-insensitively."""

    def _key(self, key: Any) -> bytes:
        return (key.encode("latin-1") if isinstance(key, str) else bytes(key)).lower()

    def __getitem__(self, key: Any) -> bytes:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: Any) -> bool:
        return super().__contains__(self._key(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)


def _auth_error(exc: AuthHTTPException) -> errors.HTTPError:
    headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}
    return errors.HTTPError(exc.status_code, str(exc.detail), headers=headers)


class Authorizer:
    def __init__(self, auth: Auth, settings: Settings) -> None:
        self.auth = auth
        self.studio = settings.dev and not settings.auth.get("disable_studio_auth")
        fn = auth._authenticate_handler
        if fn is None:
            raise ConfigError(
                f"auth.path {settings.auth.get('path')!r}: the Auth object has no "
                "@auth.authenticate handler, so no request could be authenticated; add one"
            )
        self._authenticate: Callable[..., Any] = fn
        self._wants = [p for p in inspect.signature(fn).parameters if p in AUTHENTICATE_PARAMS]
        unknown = [
            name
            for name, p in inspect.signature(fn).parameters.items()
            if name not in AUTHENTICATE_PARAMS
            and p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        if unknown:
            raise ConfigError(
                f"@auth.authenticate {fn.__name__} asks for {', '.join(unknown)}; it may ask for "
                f"{', '.join(sorted(AUTHENTICATE_PARAMS))}"
            )
        self._is_async = inspect.iscoroutinefunction(fn)
        self._handlers: dict[tuple[str, str], Callable[..., Awaitable[Any]] | None] = {}

    # -- authentication ----------------------------------------------------------------------

    async def authenticate(self, scope: Scope, receive: Receive) -> tuple[Session, Receive]:
        """The request's session, and the `receive` to go on with (the body replayed when the
        handler read it). Unauthorized (or the handler's own error) when it refuses."""
        if self.studio and _header(scope, b"x-auth-scheme") == b"langsmith":
            user = StudioUser(STUDIO_USER, is_authenticated=True)
            return self._session(user), receive
        kwargs: dict[str, Any] = {}
        for name in self._wants:
            if name == "body":
                raw, receive = await _read_body(receive)
                kwargs["body"] = _parse_json(raw)
            else:
                kwargs[name] = _param(name, scope, receive)
        try:
            if self._is_async:
                raw_user = await self._authenticate(**kwargs)
            else:
                raw_user = await asyncio.to_thread(self._authenticate, **kwargs)
        except AuthHTTPException as exc:
            raise _auth_error(exc) from None
        except ValueError as exc:
            raise errors.BadRequest(str(exc)) from None
        if raw_user is None:
            raise errors.Unauthorized()
        try:
            return self._session(raw_user), receive
        except BadUser as exc:
            log.error("auth: %s", exc)
            raise errors.GraphportError(f"The auth module is broken: {exc}") from None

    def _session(self, raw_user: Any) -> Session:
        user, as_dict = normalise_user(raw_user)
        return Session(self, user, as_dict, tuple(as_dict.permissions))

    # -- authorization -----------------------------------------------------------------------

    def _handler(self, resource: str, action: str) -> Callable[..., Awaitable[Any]] | None:
        """The most specific handler: (resource, action), (resource, *), (*, action), global."""
        key = (resource, action)
        if key not in self._handlers:
            found = None
            for candidate in (key, (resource, "*"), ("*", action)):
                if candidate in self.auth._handlers:
                    found = self.auth._handlers[candidate][-1]
                    break
            if found is None and self.auth._global_handlers:
                found = self.auth._global_handlers[-1]
            self._handlers[key] = found
        return self._handlers[key]

    async def authorize(
        self, session: Session, resource: str, action: str, value: dict[str, Any]
    ) -> Conditions | None:
        handler = self._handler(resource, action)
        if handler is None:
            return None
        ctx = AuthContext(
            permissions=list(session.permissions),
            user=session.user,
            resource=resource,  # type: ignore[arg-type]
            action=action,  # type: ignore[arg-type]
        )
        try:
            result = await handler(ctx=ctx, value=value)
        except AuthHTTPException as exc:
            raise _auth_error(exc) from None
        if result is None or result is True:
            return None
        if result is False:
            raise errors.Forbidden()
        if isinstance(result, Mapping):
            try:
                return normalise(result) or None
            except BadFilter as exc:
                log.error("auth: handler %s for %s.%s: %s", handler, resource, action, exc)
                raise errors.GraphportError(f"The auth module is broken: {exc}") from None
        log.error("auth: handler %s returned %r", handler, result)
        raise errors.GraphportError(
            f"The auth module is broken: a handler must return None, a bool or a filter dict, "
            f"got {type(result).__name__}"
        )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None


def _param(name: str, scope: Scope, receive: Receive) -> Any:
    if name == "request":
        return Request(scope, receive)
    if name == "path":
        return scope["path"]
    if name == "method":
        return scope.get("method", "GET")
    if name == "path_params":
        return dict(scope.get("path_params") or {})
    if name == "query_params":
        return dict(Request(scope).query_params)
    if name == "headers":
        return Headers((bytes(k).lower(), bytes(v)) for k, v in scope.get("headers") or ())
    if name == "authorization":
        value = _header(scope, b"authorization")
        return value.decode("latin-1") if value is not None else None
    if name == "scope":
        return scope
    return None  # `user`: nobody yet


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    replayed = False

    async def replay() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return raw, replay


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def load_authorizer(settings: Settings) -> Authorizer | None:
    """The `auth.path` object of langgraph.json, checked; None without one."""
    from graphport.graphs import import_checked

    spec = settings.auth.get("path")
    if spec is None:
        return None
    auth: Auth = import_checked(
        spec, settings.base_dir, "auth.path", Auth, "auth", "a langgraph_sdk.Auth object"
    )
    return Authorizer(auth, settings)
