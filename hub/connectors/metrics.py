"""Connector metrics. Labels are connector names (bounded by the registry) and
fixed outcomes; never a tenant, a provider id or anything a provider sent."""

from __future__ import annotations

from prometheus_client import Counter

INBOUND_REQUESTS = Counter(
    "hub_inbound_requests_total",
    "Provider webhook calls received, by connector and outcome",
    ["connector", "outcome"],  # accepted | refused | not_found | unavailable
)
INBOUND_EVENTS = Counter(
    "hub_inbound_events_total",
    "Events read from provider webhooks, by connector and outcome",
    ["connector", "outcome"],  # accepted | duplicate | rejected
)
