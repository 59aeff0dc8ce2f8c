"""Per-endpoint rate and tenant quota: throttled deliveries wait without losing an attempt."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from hub.clock import FrozenClock
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.runtime import Runtime
from tests.delivery.support import (
    make_deliveries,
    make_subscription,
    make_tenant,
    statuses,
    subscription,
)


def throttled(reason: str) -> float:
    return REGISTRY.get_sample_value("hub_delivery_throttled_total", {"reason": reason}) or 0.0


async def test_the_endpoint_rate_spreads_deliveries_without_consuming_attempts(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url, rate_per_second=2)
    ids = await make_deliveries(rt, sub, 10)
    await enqueue_deliveries(rt, ids)
    before = throttled("rate")

    await engine.run_until_idle()
    assert len(receiver.received) == 2  # a burst of one second's worth
    assert await statuses(rt, ids) == {"delivered": 2, "pending": 8}

    for _ in range(8):
        clock.advance(0.5)
        await engine.run_until_idle()
    assert len(receiver.received) == 2 + 8  # then two a second
    assert await statuses(rt, ids) == {"delivered": 10}
    assert throttled("rate") > before


async def test_the_tenant_quota_holds_across_subscriptions(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    tenant = await make_tenant(rt, limits={"deliveries_per_minute": 3})
    subs = [await make_subscription(rt, tenant, receiver.url) for _ in range(2)]
    ids = [i for sub in subs for i in await make_deliveries(rt, sub, 3)]
    other = await make_subscription(rt, await make_tenant(rt), receiver.url)
    other_ids = await make_deliveries(rt, other, 3)
    await enqueue_deliveries(rt, ids + other_ids)

    await engine.run_until_idle()
    assert await statuses(rt, ids) == {"delivered": 3, "pending": 3}
    assert await statuses(rt, other_ids) == {"delivered": 3}  # another tenant's quota
    clock.advance(30)
    await engine.run_until_idle()
    assert (await statuses(rt, ids))["delivered"] <= 5
    clock.advance(31)
    await engine.run_until_idle()
    assert await statuses(rt, ids) == {"delivered": 6}


async def test_admins_set_the_rate_of_a_subscription(
    rt: Runtime,
    clock: FrozenClock,
    engine: DeliveryEngine,
    receivers,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    r = await client.patch(
        f"/admin/v1/subscriptions/{sub.id}", json={"rate_per_second": 1}, headers=admin_headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"subscription_id": sub.id, "rate_per_second": 1.0}
    assert (await subscription(rt, sub.id)).rate_per_second == 1.0
    ids = await make_deliveries(rt, sub, 5)
    await enqueue_deliveries(rt, ids)

    await engine.run_until_idle()

    assert len(receiver.received) == 1
    bad = await client.patch(
        f"/admin/v1/subscriptions/{sub.id}", json={"rate_per_second": 0}, headers=admin_headers
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "VALIDATION_FAILED"
    missing = await client.patch(
        "/admin/v1/subscriptions/sub_nope", json={"rate_per_second": 3}, headers=admin_headers
    )
    assert missing.status_code == 404
