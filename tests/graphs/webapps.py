"""Custom apps for `http.app` tests: a Starlette one and a FastAPI one.

Each marks every response it wraps with `x-webapp` (and `x-webapp-greeting`, read from
`request.state`), appends `start` / `stop` to the file named by WEBAPP_EVENTS from its lifespan,
and yields state its routes read from `request.state`. `state_auth` authenticates every request
as the lifespan's greeting, read from `request.state` too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from langgraph_sdk import Auth
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _event(what: str) -> None:
    path = os.environ.get("WEBAPP_EVENTS")
    if path:
        with open(path, "a") as f:
            f.write(what + "\n")


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    _event("start")
    yield {"greeting": "hello from the lifespan"}
    _event("stop")


class Mark(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["x-webapp"] = self.name
        response.headers["x-webapp-greeting"] = getattr(request.state, "greeting", "none")
        return response

    def __init__(self, app: Any, name: str) -> None:
        super().__init__(app)
        self.name = name


async def home(request: Request) -> Response:
    return JSONResponse({"home": "custom"})


async def greet(request: Request) -> Response:
    return JSONResponse({"greeting": request.state.greeting, "path": request.url.path})


async def broken(request: Request) -> Response:
    raise RuntimeError("custom route failed")


async def whoami(request: Request) -> Response:
    """Who the request is (with http.enable_custom_route_auth: graphport's auth user)."""
    user = request.scope.get("user")
    return JSONResponse({"identity": getattr(user, "identity", None)})


starlette_app = Starlette(
    routes=[
        Route("/", home),
        Route("/custom/whoami", whoami),
        Route("/custom/greet", greet),
        Route("/custom/broken", broken),
        Route("/ok", home),  # may not replace graphport's health check
    ],
    middleware=[Middleware(Mark, name="starlette")],
    lifespan=lifespan,
)


class Order(BaseModel):
    item: str
    quantity: int = 1


class Receipt(BaseModel):
    item: str
    quantity: int
    greeting: str


fastapi_app = FastAPI(lifespan=lifespan)
fastapi_app.add_middleware(Mark, name="fastapi")


@fastapi_app.post("/orders", response_model=Receipt)
async def order(body: Order, request: Request) -> Receipt:
    return Receipt(item=body.item, quantity=body.quantity, greeting=request.state.greeting)


@fastapi_app.get("/info")
async def info() -> dict[str, str]:
    return {"info": "custom"}


state_auth = Auth()


@state_auth.authenticate
async def authenticate(request: Request) -> str:
    """The identity is what the custom app's lifespan yielded (a 500 if it is not there)."""
    return str(request.state.greeting)
