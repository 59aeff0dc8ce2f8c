"""Tracing: one OpenTelemetry trace from a request through fan-out to every delivery attempt.

Off by default, and then free: ``Tracing.off()`` makes no spans, installs no middleware
and patches no library. On (``Settings.traces_exporter``, from the standard
``OTEL_TRACES_EXPORTER`` / ``OTEL_EXPORTER_OTLP_*`` variables), a hub owns one
``TracerProvider`` whose spans go through a batch processor to the OTLP exporter
(which reads its endpoint, headers and timeouts from ``OTEL_*`` itself) or the console.

What makes it one trace: the request's span context is written into each delivery row
it creates (``deliveries.trace_parent``, a W3C ``traceparent``), and the worker that
sends the delivery — another process, maybe minutes later — starts each attempt's
span as a child of it. Replays and retries keep the original parent.

Nothing secret or personal reaches a span: the ASGI spans carry the path but never
the query string (portal links carry their token there), client spans only the
target's scheme and host (webhook URLs are capabilities), database spans the
statement without its parameters, Redis spans the command without its arguments.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from hub.config import Settings

log = logging.getLogger("hub.tracing")

_PROPAGATOR = TraceContextTextMapPropagator()
# The span attributes that may carry a query string or a capability URL, by name in the
# old and the new HTTP semantic conventions.
_SERVER_URL_ATTRIBUTES = ("http.url", "url.full")
_SERVER_TARGET_ATTRIBUTES = ("http.target",)


def scheme_and_host(url: object) -> str:
    """``https://hooks.example.com`` of a URL: enough to tell targets apart, never
    the path or query that may hold a token."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _server_request_hook(span: Span, scope: Mapping[str, Any]) -> None:
    if not span.is_recording():
        return
    path = str(scope.get("path", ""))
    for name in _SERVER_TARGET_ATTRIBUTES:
        span.set_attribute(name, path)
    server = scope.get("server") or ("", None)
    scheme = scope.get("scheme", "http")
    for name in _SERVER_URL_ATTRIBUTES:
        span.set_attribute(name, f"{scheme}://{server[0]}{path}")
    # The new conventions keep the query apart: dropped.
    span.set_attribute("url.query", "")


def _client_url(url: Any) -> str:
    return scheme_and_host(url)


def _httpx_request_hook(span: Span, request: Any) -> None:
    if span.is_recording():
        redacted = scheme_and_host(getattr(request, "url", ""))
        span.set_attribute("http.url", redacted)
        span.set_attribute("url.full", redacted)


class Tracing:
    """The hub's tracer and what it instrumented; ``off()`` when tracing is off."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("hub") if provider is not None else None
        self._instrumented: list[Any] = []

    @classmethod
    def off(cls) -> Tracing:
        return cls(None)

    @classmethod
    def with_exporter(cls, exporter: SpanExporter, *, service_name: str = "hub") -> Tracing:
        """Spans exported in batches through ``exporter`` (tests pass an in-memory one)."""
        resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            resource = resource.merge(Resource({"service.name": service_name}))
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider)

    @classmethod
    def from_settings(cls, settings: Settings, *, service_name: str = "hub") -> Tracing:
        """What ``OTEL_*`` asked for: off, OTLP over HTTP, or the console (debugging).
        ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` override ``service_name``."""
        if settings.traces_exporter == "none":
            return cls.off()
        exporter: SpanExporter
        if settings.traces_exporter == "console":
            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        return cls.with_exporter(exporter, service_name=service_name)

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    # -- the hub's own spans ---------------------------------------------------------

    def traceparent(self) -> str | None:
        """The current span's W3C ``traceparent``, to store beside work done later."""
        if self._tracer is None:
            return None
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier.get("traceparent")

    @contextlib.contextmanager
    def span(
        self,
        name: str,
        *,
        parent: str | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, str | int | bool] | None = None,
    ) -> Iterator[Span | None]:
        """A span named ``name``, a child of the stored ``parent`` traceparent if given
        (else of the current span); ``None`` when tracing is off."""
        if self._tracer is None:
            yield None
            return
        context = _PROPAGATOR.extract({"traceparent": parent}) if parent else None
        with self._tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=attributes
        ) as span:
            yield span

    # -- libraries ---------------------------------------------------------------------

    def asgi_config(self) -> Any:
        """litestar's OpenTelemetry plugin config for this tracer (None when off)."""
        if self.provider is None:
            return None
        from litestar.plugins.opentelemetry import OpenTelemetryConfig

        return OpenTelemetryConfig(
            tracer_provider=self.provider,
            server_request_hook_handler=_server_request_hook,
            # One span per request, not three (receive and send are ASGI plumbing).
            exclude_spans=["receive", "send"],
        )

    def instrument_libraries(self) -> None:
        """Spans for Postgres (asyncpg), Redis, and outgoing HTTP (aiohttp: deliveries;
        httpx: upstream and provider calls). These patch the libraries process-wide;
        a second hub in the process finds them already patched and shares them."""
        if self.provider is None or self._instrumented:
            return
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        instrumentors: list[tuple[Any, dict[str, Any]]] = [
            (AsyncPGInstrumentor(), {}),  # type: ignore[no-untyped-call]  # no parameters
            (RedisInstrumentor(), {}),  # commands only: arguments are replaced by "?"
            (AioHttpClientInstrumentor(), {"url_filter": _client_url}),
            (HTTPXClientInstrumentor(), {"request_hook": _httpx_request_hook}),
        ]
        for instrumentor, options in instrumentors:
            if instrumentor.is_instrumented_by_opentelemetry:
                continue
            instrumentor.instrument(tracer_provider=self.provider, **options)
            self._instrumented.append(instrumentor)

    def close(self) -> None:
        """Unpatch what this hub patched and flush its spans (repeatable)."""
        for instrumentor in self._instrumented:
            try:
                instrumentor.uninstrument()
            except Exception:
                log.debug("could not uninstrument", exc_info=True)
        self._instrumented = []
        if self.provider is not None:
            self.provider.shutdown()
            self.provider = None
            self._tracer = None
