"""Delivery metrics. Labels are small fixed sets: never ids, URLs or tenants."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "hub_delivery_outcomes_total",
    "Delivery attempts by what they led to (delivered, retrying, dead, gone, released)",
    ["outcome"],
)
ATTEMPT_DURATION = Histogram(
    "hub_delivery_attempt_duration_seconds",
    "Duration of one delivery HTTP attempt",
    ["result"],  # 2xx 3xx 4xx 5xx error
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
INGEST_TO_DELIVERY = Histogram(
    "hub_delivery_latency_seconds",
    "From the event's ingest to its delivery's 2xx",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
THROTTLED = Counter(
    "hub_delivery_throttled_total",
    "Lanes deferred without consuming an attempt",
    ["reason"],  # rate quota breaker
)
DLQ_DEPTH = Gauge("hub_delivery_dlq_depth", "Deliveries in the dead-letter queue")
RETRY_BACKLOG = Gauge("hub_delivery_retry_backlog", "Deliveries waiting for a retry")
PENDING = Gauge("hub_delivery_pending", "Deliveries never attempted yet")
BREAKERS = Gauge("hub_delivery_breakers", "Subscriptions whose breaker is not closed", ["state"])
AUTO_DISABLED = Counter(
    "hub_subscriptions_auto_disabled_total",
    "Subscriptions disabled because every delivery attempt failed for days",
)


def result_label(status_code: int | None) -> str:
    if status_code is None:
        return "error"
    return f"{status_code // 100}xx"
