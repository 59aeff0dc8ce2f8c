"""The outermost ASGI layer: request id, access log and HTTP metrics for every response.

It wraps the whole litestar app so unknown routes (answered before litestar's
middleware runs) still get an ``X-Request-Id``, a log line and a metric.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from hub.web.context import (
    accept_or_make_request_id,
    integration_id_var,
    request_id_var,
    tenant_id_var,
)
from hub.web.errors import PROBLEM_CONTENT_TYPE, ProblemError
from hub.web.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_log = logging.getLogger("hub.access")

# Any other method is labelled OTHER: a client must not mint new metric series.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The metrics' children by label values: ``.labels()`` takes a lock and builds its key
# on every call (~1.5 µs each, twice a request). The label sets are bounded (methods
# above, route templates, status codes), and prometheus keeps every child anyway.
_requests_by_labels: dict[tuple[str, str, int], Any] = {}
_latency_by_labels: dict[tuple[str, str], Any] = {}


def _record_metrics(method: str, route: str, status: int, elapsed: float) -> None:
    counter = _requests_by_labels.get((method, route, status))
    if counter is None:
        counter = HTTP_REQUESTS.labels(method, route, str(status))
        _requests_by_labels[(method, route, status)] = counter
    counter.inc()
    latency = _latency_by_labels.get((method, route))
    if latency is None:
        latency = _latency_by_labels[(method, route)] = HTTP_LATENCY.labels(method, route)
    latency.observe(elapsed)


async def _send_internal_problem(send: Send, request_id: str) -> None:
    body = ProblemError("INTERNAL", "an internal error occurred").body(request_id)
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 500,
        "headers": [
            (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        # Let callers reach the wrapped litestar app (openapi_schema, state, ...).
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        request_id = accept_or_make_request_id(offered)
        scope.setdefault("state", {})["request_id"] = request_id
        tokens = (
            request_id_var.set(request_id),
            tenant_id_var.set(None),
            integration_id_var.set(None),
        )
        raw_header = request_id.encode()
        status = 500
        started = time.perf_counter()

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", raw_header))
                message["headers"] = headers
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # litestar turns handler errors into problems; this catches what escapes it.
                access_log.error("unhandled error outside the app", exc_info=True)
                if started_response:
                    raise
                await _send_internal_problem(send_with_id, request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope["method"]  # type: ignore[typeddict-item]
            if method not in _KNOWN_METHODS:
                method = "OTHER"
            _record_metrics(method, route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(tokens[0])
            tenant_id_var.reset(tokens[1])
            integration_id_var.reset(tokens[2])
