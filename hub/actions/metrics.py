"""Action metrics. Labels are bounded: action names come from the catalog, never ids."""

from __future__ import annotations

import functools
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

ACTIONS = Counter(
    "hub_actions_total",
    "Action requests by outcome (succeeded, rejected, invalid, failed, throttled, "
    "replayed, in_progress, key_reused)",
    ["action", "outcome"],
)
REPLAYS = Counter(
    "hub_action_replays_total", "Stored action answers replayed for a repeated key", ["action"]
)
CONFLICTS = Counter(
    "hub_action_idempotency_conflicts_total",
    "Idempotency-Key conflicts (in_progress: 409, key_reused: 422)",
    ["action", "kind"],
)
LATENCY = Histogram(
    "hub_action_duration_seconds",
    "Time from claiming the key to storing the answer, per executed action",
    ["action", "handler"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
THROTTLED = Counter(
    "hub_action_throttled_total",
    "Actions refused by a rate limit or quota, by the limit that refused",
    ["limit"],
)
LOST_CLAIMS = Counter(
    "hub_action_lost_claims_total",
    "Executions that finished after their idempotency lock had been taken over",
)
LIMITER_FALLBACK = Gauge(
    "hub_rate_limiter_fallback",
    "1 while this process enforces action rate limits in memory because Redis is down",
)
LIMITER_FALLBACK_DECISIONS = Counter(
    "hub_rate_limiter_fallback_decisions_total",
    "Action rate-limit decisions taken by the in-process fallback",
)
UPSTREAM_CALLS = Counter(
    "hub_upstream_requests_total",
    "Calls to tenants' upstream products by outcome",
    ["action", "outcome"],
)


@functools.cache
def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once: ``.labels()`` locks and builds its key
    on every call, several times an action. Bounded: catalog names and fixed outcomes."""
    return metric.labels(*labels)
