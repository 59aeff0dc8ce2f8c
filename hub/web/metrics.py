"""HTTP metrics, labelled by route template (never the raw path: ids are unbounded)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics

# No ``*_created`` series beside every counter and histogram: they double the series
# count, and nothing here reads them (a counter reset shows in rate() anyway).
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus-client

HTTP_REQUESTS = Counter(
    "hub_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "hub_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
AUTH_FAILURES = Counter("hub_auth_failures_total", "Rejected credentials", ["kind", "code"])
