"""OpenTelemetry traces (`pip install 'graphport[otel]'`), configured by the standard OTEL_*
variables and active only when one of them asks for an exporter (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER`); otherwise nothing here runs.

Spans: one per HTTP request (`TraceRequests`, continuing a W3C `traceparent`), one per run
execution, and one per graph node below it (`NodeSpans`, a LangChain callback handler on the
run's config). The request's trace context is stored with the run (`kwargs.trace_context`), so
the run's span continues the request's trace on whichever process executes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphport.models import Run

log = logging.getLogger("graphport.tracing")
_tracer: Any = None  # an opentelemetry Tracer once `setup` ran with tracing asked for
_provider: Any = None


def wanted() -> bool:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(
        exporter
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup() -> None:
    """Build the tracer provider and exporter from the environment (once per process)."""
    global _tracer, _provider
    if _tracer is not None or not wanted():
        return
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("OTEL_* variables ask for traces, but opentelemetry-sdk is not installed: "
                    "pip install 'graphport[otel]'")  # fmt: skip
        return
    # OTEL_RESOURCE_ATTRIBUTES are merged in by Resource.create
    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME", "graphport"),
            "process.pid": os.getpid(),
        }
    )
    provider = TracerProvider(resource=resource)
    for exporter in _exporters():
        provider.add_span_processor(BatchSpanProcessor(exporter))
    _provider, _tracer = provider, provider.get_tracer("graphport")


def _exporters() -> list[Any]:
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",")
    exporters: list[Any] = []
    for name in (n.strip() for n in names):
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            protocol = os.environ.get(
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            )
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                    OTLPSpanExporter as GrpcExporter,
                )

                exporters.append(GrpcExporter())
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )

                exporters.append(OTLPSpanExporter())  # endpoint, headers: from OTEL_*
        else:
            log.warning("OTEL_TRACES_EXPORTER=%s is not supported (otlp, console)", name)
    return exporters


def shutdown() -> None:
    """Export what is buffered (at the end of the lifespan); a later `setup` starts afresh."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


# -- the trace context across processes ------------------------------------------------------


def current_carrier() -> dict[str, str] | None:
    """The current trace context as W3C headers (stored with a run), or None."""
    if _tracer is None:
        return None
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier or None


def _extract(carrier: dict[str, str] | None) -> Any:
    from opentelemetry.propagate import extract

    return extract(carrier or {})


# -- HTTP requests ---------------------------------------------------------------------------


class TraceRequests:
    """A server span per HTTP request, named `METHOD /route/{template}`, continuing the
    request's `traceparent`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _tracer is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from opentelemetry import trace

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with _tracer.start_as_current_span(
            method, context=_extract(headers), kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope.get("path", "")},
        ) as span:  # fmt: skip
            try:
                await self.app(scope, receive, watch)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.Status(trace.StatusCode.ERROR))


# -- runs and nodes --------------------------------------------------------------------------


@contextlib.contextmanager
def run_span(run: Run, graph_id: str) -> Iterator[Any]:
    """The span of one run execution, continuing the trace of the request that created it;
    None when tracing is off."""
    if _tracer is None:
        yield None
        return
    kwargs = run["kwargs"]
    attributes = {
        "langgraph.run.id": run["run_id"],
        "langgraph.thread.id": run["thread_id"],
        "langgraph.assistant.id": run.get("assistant_id") or "",
        "langgraph.graph.id": graph_id,
        "langgraph.run.attempt": run.get("attempt", 1),
    }
    context = _extract(kwargs.get("trace_context"))
    with _tracer.start_as_current_span(
        f"run {graph_id}", context=context, attributes=attributes, end_on_exit=True
    ) as span:
        yield span


def end_run_span(span: Any, status: str) -> None:
    if span is None:
        return
    from opentelemetry import trace

    span.set_attribute("langgraph.run.status", status)
    if status in ("error", "timeout"):
        span.set_status(trace.Status(trace.StatusCode.ERROR, status))


def node_callbacks(span: Any) -> list[Any]:
    """Callback handlers that open a span per graph node below the run's `span`."""
    return [] if span is None else [_node_spans(span)]


def _node_spans(run_span: Any) -> Any:
    from langchain_core.callbacks import BaseCallbackHandler
    from opentelemetry import trace

    class NodeSpans(BaseCallbackHandler):
        """A span per langgraph node: a chain start whose name is its `langgraph_node`."""

        run_inline = True  # in the graph's own task, in order

        def __init__(self) -> None:
            self.spans: dict[UUID, Any] = {}
            self.parents: dict[UUID, UUID | None] = {}

        def _parent_span(self, parent: UUID | None) -> Any:
            while parent is not None:
                if parent in self.spans:
                    return self.spans[parent]
                parent = self.parents.get(parent)
            return run_span

        def on_chain_start(
            self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
            parent_run_id: UUID | None = None, metadata: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:  # fmt: skip
            self.parents[run_id] = parent_run_id
            node = (metadata or {}).get("langgraph_node")
            if node is None or kwargs.get("name") != node:
                return
            parent = trace.set_span_in_context(self._parent_span(parent_run_id))
            attributes = {"langgraph.node": node,
                          "langgraph.step": (metadata or {}).get("langgraph_step", -1)}  # fmt: skip
            self.spans[run_id] = _tracer.start_span(
                f"node {node}", context=parent, attributes=attributes
            )

        def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
            self.parents.pop(run_id, None)
            span = self.spans.pop(run_id, None)
            if span is not None:
                span.end()

        def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            self.parents.pop(run_id, None)
            span = self.spans.pop(run_id, None)
            if span is not None:
                if type(error).__name__ not in ("GraphInterrupt", "ParentCommand"):
                    span.record_exception(error)
                    span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
                span.end()

    return NodeSpans()
