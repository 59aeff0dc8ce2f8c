"""Concurrent publishes of the same producer ids, and the metrics' bounded labels."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import REGISTRY

from hub.runtime import Runtime
from tests.conftest import Factory
from tests.events.helpers import (
    all_deliveries,
    all_events,
    event,
    publish,
    publisher,
    subscribe,
    subscriber,
)


async def test_concurrent_publishes_of_one_batch_store_it_once(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    await subscribe(client, (await subscriber(factory, tenant["id"]))["api_key"])
    batch = {"events": [event(f"e{i}") for i in range(20)]}
    responses = await asyncio.gather(*(publish(client, key, batch) for _ in range(5)))
    assert all(r.status_code == 202 for r in responses)
    assert sum(r.json()["accepted"] for r in responses) == 20
    assert sum(r.json()["duplicates"] for r in responses) == 80
    assert len(await all_events(rt)) == 20
    assert len(await all_deliveries(rt)) == 20


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_by_catalog_type_only(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    await subscribe(client, (await subscriber(factory, tenant["id"]))["api_key"])
    before = {
        "accepted": _value("hub_events_total", event_type="lead.created", outcome="accepted"),
        "duplicate": _value("hub_events_total", event_type="lead.created", outcome="duplicate"),
        "unknown": _value("hub_events_total", event_type="unknown", outcome="rejected"),
        "deliveries": _value("hub_fanout_deliveries_total", event_type="lead.created"),
        "masked": _value("hub_sanitizer_fields_total", event_type="lead.created", action="masked"),
        "sanitized": _value("hub_sanitized_total", event_type="lead.created"),
    }
    batch = {
        "events": [
            event("m1"),
            event("m1"),
            {"id": "m2", "type": "tenant-secret-type-123", "data": {}},
        ]
    }
    assert (await publish(client, key, batch)).status_code == 202
    assert _value("hub_events_total", event_type="lead.created", outcome="accepted") == (
        before["accepted"] + 1
    )
    assert _value("hub_events_total", event_type="lead.created", outcome="duplicate") == (
        before["duplicate"] + 1
    )
    assert _value("hub_events_total", event_type="unknown", outcome="rejected") == (
        before["unknown"] + 1
    )
    assert _value("hub_fanout_deliveries_total", event_type="lead.created") == (
        before["deliveries"] + 1
    )
    assert _value("hub_sanitized_total", event_type="lead.created") == before["sanitized"] + 1
    assert _value("hub_sanitizer_fields_total", event_type="lead.created", action="masked") == (
        before["masked"] + 3
    )
    exposed = (await client.get("/metrics")).text
    assert "tenant-secret-type-123" not in exposed
    assert tenant["id"] not in exposed
