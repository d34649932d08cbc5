"""create_app(settings) -> the ASGI application.

The lifespan opens storage, registers assistants and starts the worker; it stops them in
reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphport import errors, gc_tuning, tracing, ui
from graphport.access_log import AccessLog
from graphport.api import route_table
from graphport.api.responses import error_response
from graphport.auth.core import load_authorizer
from graphport.auth.middleware import Authenticate
from graphport.bus.cluster import ClusterBus
from graphport.bus.memory import MemoryBus
from graphport.bus.transports import transport_for
from graphport.config import Settings
from graphport.engine import containment
from graphport.engine.assistants import Assistants
from graphport.engine.crons import CronScheduler
from graphport.engine.feedback import FeedbackLinks
from graphport.engine.protocol import ProtocolHub
from graphport.engine.run_records import RunRecords
from graphport.engine.runs import RunEngine
from graphport.engine.threads import ThreadOps
from graphport.engine.webhooks import WebhookSender
from graphport.engine.worker import Worker
from graphport.graphs import GraphEntry, load_embeddings, load_graphs
from graphport.http_app import combine_lifespans, compose, load_custom_app
from graphport.metrics import Metrics, RequestMetrics
from graphport.storage import Storage, open_storage

log = logging.getLogger("graphport")

EXPOSE_HEADERS = ["x-pagination-total", "x-pagination-next", "content-location"]


async def _graphport_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.GraphportError)
    return error_response(exc.status_code, exc.detail, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))


async def _value_error(request: Request, exc: Exception) -> Response:
    return error_response(400, str(exc))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal Server Error")


class ServerErrors:
    """An error no route handled becomes the 500 `{"detail": ...}` here, inside a custom
    app's middleware (Starlette's own handler sits outside all middleware, so that middleware
    would see an exception, not a response)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:  # a stream broke mid-way: nothing can be answered any more
                raise
            response = await _unexpected(Request(scope), exc)
            await response(scope, receive, send)


class PrivateNetworkHeader:
    """Answer every OPTIONS with `access-control-allow-private-network: true`, as the reference
    does, so browsers may reach a server on the user's machine from a public page (Studio)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("access-control-allow-private-network", "true")
            await send(message)

        await self.app(scope, receive, send_with_header)


def _cors(settings: Settings) -> Middleware:
    cors: dict[str, Any] = settings.http.get("cors") or {}
    return Middleware(
        CORSMiddleware,
        allow_origins=cors.get("allow_origins", ["*"]),
        allow_methods=cors.get("allow_methods", ["*"]),
        allow_headers=cors.get("allow_headers", ["*"]),
        allow_credentials=cors.get("allow_credentials", False),
        allow_origin_regex=cors.get("allow_origin_regex"),
        allow_private_network=cors.get("allow_private_network", True),
        expose_headers=cors.get("expose_headers", EXPOSE_HEADERS),
        max_age=cors.get("max_age", 600),
    )


def _bus(settings: Settings, storage: Storage) -> MemoryBus:
    """One process: a MemoryBus. Several sharing the database: a ClusterBus over the
    transport that reaches the others (see `transport_for`)."""
    retention, max_events = settings.stream_retention, settings.stream_max_events
    if not storage.shared:
        return MemoryBus(retention, max_events)
    transport = transport_for(storage.peers(), settings.redis_url)
    return ClusterBus(transport, retention, max_events, origin=storage.worker_id)


def _prepare_loop(loop: asyncio.AbstractEventLoop, jobs: int) -> None:
    """The event loop as graph code needs it."""
    # SystemExit & co. raised by graph code end its run, not the server (containment.py)
    containment.install(loop)
    # langgraph runs sync nodes in the loop's default executor: size it so blocking graph
    # code in one run does not hold up the others.
    loop.set_default_executor(
        ThreadPoolExecutor(max_workers=max(32, jobs), thread_name_prefix="graph")
    )


def _lifespan(
    settings: Settings, graphs: dict[str, GraphEntry], metrics: Metrics
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """Open storage, build the engine's objects (each given its collaborators), serve; then
    stop them in reverse order."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _prepare_loop(asyncio.get_running_loop(), settings.jobs)
        storage = open_storage(settings, load_embeddings(settings))
        storage.stale_after = settings.stale_after_seconds
        storage.default_ttl = settings.thread_ttl.default
        await storage.open()
        bus = _bus(settings, storage)
        metrics.start(settings.jobs)
        tracing.setup()
        webhooks = WebhookSender(storage, settings.webhooks, metrics)
        await webhooks.start()
        feedback = FeedbackLinks(
            await storage.server_secret(), settings.base_url, settings.feedback_ttl
        )
        worker = Worker(settings, storage, graphs, bus, webhooks, feedback, metrics)
        await bus.start(worker)
        app.state.feedback = feedback
        engine = RunEngine(settings, storage, graphs, bus, worker)
        app.state.settings = settings
        app.state.engine = engine
        app.state.threads = threads = ThreadOps(storage, graphs, worker)
        app.state.assistants = Assistants(engine, threads)
        app.state.run_records = RunRecords(storage, threads)
        app.state.protocol = protocol = ProtocolHub(
            engine, retention=settings.stream_retention, max_events=settings.stream_max_events
        )
        await engine.start()
        app.state.crons = crons = CronScheduler(engine)
        crons.start()
        sweeper = asyncio.create_task(
            threads.sweep_expired(settings.ttl_sweep_seconds, settings.thread_ttl.sweep_limit)
        )
        keep_alive = asyncio.create_task(worker.keep_alive()) if storage.shared else None
        _log_start(settings, graphs, storage, bus)
        gc_tuning.settle_after_startup()
        try:
            yield
        finally:
            sweeper.cancel()
            await protocol.stop()
            await crons.stop()
            await worker.stop(grace=settings.drain_seconds)
            if keep_alive is not None:
                keep_alive.cancel()
            await webhooks.stop()
            await bus.stop()
            await storage.close()
            metrics.stop()
            tracing.shutdown()

    return lifespan


def _log_start(
    settings: Settings, graphs: dict[str, GraphEntry], storage: Storage, bus: MemoryBus
) -> None:
    log.info("data: %s", storage.location)
    log.info("graphs: %s", ", ".join(f"{g} ({e.source})" for g, e in graphs.items()))
    log.info("ready: %d job slots", settings.jobs)  # "serving on" follows the bind (cli)
    if isinstance(bus, ClusterBus):
        log.info(
            "sharing the database with other processes (worker %s, bus: %s)",
            storage.worker_id,
            type(bus.transport).__name__,
        )


def create_app(settings: Settings, graphs: dict[str, GraphEntry] | None = None) -> Starlette:
    if graphs is None:
        graphs = load_graphs(settings)
    metrics = Metrics()
    lifespan = _lifespan(settings, graphs, metrics)

    custom = load_custom_app(settings)
    authorizer = load_authorizer(settings)
    table = route_table(settings.http)
    parts = compose(
        settings, fixed=table.fixed, meta=table.meta, api=table.api, root=table.root,
        custom=custom,
        auth=[Middleware(Authenticate, authorizer=authorizer)] if authorizer else [],
    )  # fmt: skip
    handlers: dict[Any, Any] = {
        errors.GraphportError: _graphport_error,
        HTTPException: _http_error,
        ValueError: _value_error,
        Exception: _unexpected,
    }
    # A custom app is the application itself, as in the reference: FastAPI's routes need
    # the scope its own middleware stack prepares.
    openapi = getattr(custom, "openapi", None)  # a FastAPI app describes its own routes
    custom_openapi = openapi() if callable(openapi) else None
    app = custom if custom is not None else Starlette()
    app.state.custom_openapi = custom_openapi
    app.state.metrics = metrics
    app.router.routes = parts.routes
    app.user_middleware = [
        *parts.middleware,
        *([Middleware(tracing.TraceRequests)] if tracing.wanted() else []),
        Middleware(RequestMetrics, metrics=metrics, uncounted=[*table.fixed, *table.meta]),
        Middleware(AccessLog, http=settings.http),
        Middleware(PrivateNetworkHeader),
        _cors(settings),
        Middleware(ServerErrors),
    ]
    app.exception_handlers = {**handlers, **app.exception_handlers}
    app.router.lifespan_context = combine_lifespans(lifespan, custom)
    app.middleware_stack = None
    app.state.custom_routes = parts.custom_routes
    app.state.ui = ui.prepare(settings)  # bundles `ui` (ConfigError without node)
    return app
