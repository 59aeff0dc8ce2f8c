"""``publish_internal``'s single-event path (one statement on Postgres, ``hub/store/outbox.py``)
stores exactly what the generic batch path stores: same event, same deliveries,
same sanitized bodies per effective policy; subscriptions are never cached."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from hub.events.catalog import EVENT_TYPES
from hub.events.ingest import NewEvent, publish_internal, store_events
from hub.runtime import Runtime
from tests.conftest import Factory
from tests.events.helpers import all_deliveries, all_events, subscribe, subscriber

NARROWED = {"lead.created": {"contact": "drop", "company_name": "hash"}}


def _shape(rows: list[Any], *columns: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(getattr(r, c) for c in columns) for r in rows)


async def test_one_event_is_stored_as_the_batch_path_stores_it(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, admin_headers: dict[str, str]
) -> None:
    tenant = await factory.tenant()
    plain = await subscriber(factory, tenant["id"], mode="sandbox")
    narrowed = await subscriber(factory, tenant["id"], mode="sandbox")
    r = await client.patch(
        f"/admin/v1/integrations/{narrowed['id']}",
        json={"policy_overrides": NARROWED},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    for zap in (plain, narrowed):
        assert (await subscribe(client, zap["api_key"])).is_success
    live = await subscriber(factory, tenant["id"])  # the other side of the sandbox line
    assert (await subscribe(client, live["api_key"])).is_success
    data = EVENT_TYPES["lead.created"].sample
    fast = await publish_internal(
        rt,
        tenant_id=tenant["id"],
        integration_id=plain["id"],
        event_type="lead.created",
        producer_id="one",
        data=data,
        sandbox=True,
    )
    typed = msgspec.convert(data, EVENT_TYPES["lead.created"].data_type)
    generic = await store_events(
        rt,
        tenant_id=tenant["id"],
        integration_id=plain["id"],
        sandbox=True,
        events=[NewEvent(0, "batch", "lead.created", rt.clock.now(), typed)],
    )
    ((generic_id, _),) = generic.accepted
    events = {e.id: e for e in await all_events(rt)}
    assert set(events) == {fast, generic_id}
    assert _shape([events[fast]], "tenant_id", "integration_id", "type", "sandbox", "data") == (
        _shape([events[generic_id]], "tenant_id", "integration_id", "type", "sandbox", "data")
    )
    assert events[fast].occurred_at == events[generic_id].occurred_at
    by_event: dict[str, list[Any]] = {fast: [], generic_id: []}
    for d in await all_deliveries(rt):
        by_event[d.event_id].append(d)
    columns = (
        "tenant_id",
        "integration_id",
        "subscription_id",
        "event_type",
        "sandbox",
        "policy_version",
        "status",
        "attempt_count",
        "next_attempt_at",
        "created_at",
        "event_received_at",
        "replay_count",
        "lease_until",
        "delivered_at",
        "attempt_limit",
    )
    assert len(by_event[fast]) == 2  # both sandbox subscriptions, not the live one
    assert _shape(by_event[fast], *columns) == _shape(by_event[generic_id], *columns)

    def bodies(event_id: str) -> dict[str, Any]:
        out = {}
        for d in by_event[event_id]:
            body = msgspec.json.decode(d.body or b"")
            assert body.pop("id") == event_id
            out[d.policy_version] = body
        return out

    assert bodies(fast) == bodies(generic_id)
    assert len(set(msgspec.json.encode(b) for b in bodies(fast).values())) == 2


async def test_a_duplicate_stores_nothing_and_a_new_subscription_sees_the_next_event(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    zap = await subscriber(factory, tenant["id"], mode="sandbox")
    kwargs: dict[str, Any] = {
        "tenant_id": tenant["id"],
        "integration_id": zap["id"],
        "event_type": "lead.created",
        "data": EVENT_TYPES["lead.created"].sample,
        "sandbox": True,
    }
    first = await publish_internal(rt, producer_id="p1", **kwargs)
    assert first is not None
    assert await all_deliveries(rt) == []  # nobody subscribed yet
    assert (await subscribe(client, zap["api_key"])).is_success
    assert await publish_internal(rt, producer_id="p1", **kwargs) is None
    assert await all_deliveries(rt) == []  # a duplicate fans out nothing
    second = await publish_internal(rt, producer_id="p2", **kwargs)
    (delivery,) = await all_deliveries(rt)
    assert delivery.event_id == second
    assert len(await all_events(rt)) == 2
