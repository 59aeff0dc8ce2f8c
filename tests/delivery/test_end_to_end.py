"""Ingest -> outbox -> a real arq Worker -> the subscriber, through the public API."""

from __future__ import annotations

import json

import httpx
from standardwebhooks import Webhook

from hub.app import Hub
from hub.events.catalog import EVENT_TYPES
from hub.runtime import Runtime
from hub.worker.app import build_worker
from tests.conftest import Factory, bearer
from tests.delivery.support import delivery, scripted


async def test_published_events_reach_the_subscriber_through_an_arq_worker(
    rt: Runtime, hub: Hub, client: httpx.AsyncClient, factory: Factory, receivers
) -> None:
    receiver = await receivers(scripted([200]))
    integration = await factory.integration(scopes=["events:publish", "triggers:*"], kind="partner")
    key = bearer(integration["api_key"])
    r = await client.post(
        "/v1/hooks", json={"event": "lead.created", "target_url": receiver.url}, headers=key
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    sample = EVENT_TYPES["lead.created"].sample
    events = [{"id": f"lead-{n}", "type": "lead.created", "data": sample} for n in range(3)]
    r = await client.post("/v1/events", json={"events": events}, headers=key)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 3

    worker = build_worker(hub, burst=True, handle_signals=False, poll_delay=0.05)
    await worker.main()
    await worker.close()

    assert len(receiver.received) == 3
    assert len(receiver.counts()) == 3
    event_ids = set()
    for got in receiver.received:
        payload = Webhook(secret).verify(got.body, got.headers)
        assert payload["type"] == "lead.created"
        event_ids.add(payload["id"])
        assert (await delivery(rt, got.webhook_id)).status == "delivered"
    assert len(event_ids) == 3
    assert json.loads(receiver.received[0].body)["data"]
