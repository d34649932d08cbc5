"""Authenticate every request to the API's routes (and, with `http.enable_custom_route_auth`,
the custom app's): the session becomes the request's (`graphport.auth.core.CURRENT`), its user
`request.user` and its permissions `request.auth`, as Starlette's AuthenticationMiddleware
would have them. CORS preflights pass: the CORS middleware outside answers them."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from graphport import errors
from graphport.api.responses import error_response
from graphport.auth.core import CURRENT, Authorizer


class Authenticate:
    def __init__(self, app: ASGIApp, authorizer: Authorizer) -> None:
        self.app = app
        self.authorizer = authorizer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        try:
            session, receive = await self.authorizer.authenticate(scope, receive)
        except errors.GraphportError as exc:
            if kind == "websocket":  # refused before the handshake: the client sees a 403
                await send({"type": "websocket.close", "code": 1008, "reason": exc.detail[:120]})
                return
            response = error_response(exc.status_code, exc.detail, exc.headers)
            await response(scope, receive, send)
            return
        scope["user"] = session.user
        scope["auth"] = list(session.permissions)
        token = CURRENT.set(session)
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT.reset(token)
