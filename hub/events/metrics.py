"""Event metrics. Labels are bounded: event types come from the catalog (anything
else is counted as ``unknown``); tenants and integrations are never labels."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter

from hub.events.catalog import EVENT_TYPES

EVENTS = Counter(
    "hub_events_total",
    "Published events by outcome (accepted, duplicate, rejected)",
    ["event_type", "outcome"],
)
DELIVERIES_CREATED = Counter(
    "hub_fanout_deliveries_total", "Deliveries created by the fan-out", ["event_type"]
)
RETENTION_PURGED = Counter("hub_retention_purged_total", "Payloads purged by retention", ["what"])


def type_label(event_type: str) -> str:
    return event_type if event_type in EVENT_TYPES else "unknown"


def count_events(outcome: str, tally: Tally[str]) -> None:
    for event_type, n in tally.items():
        EVENTS.labels(type_label(event_type), outcome).inc(n)
