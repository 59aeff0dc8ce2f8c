"""Auto-disable after days of nothing but failures, and the event that announces it."""

from __future__ import annotations

import json

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import select

from hub.audit.models import AuditEntry
from hub.clock import FrozenClock
from hub.delivery.autodisable import disable_failing
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.runtime import Runtime
from tests.delivery.support import (
    make_deliveries,
    make_subscription,
    make_tenant,
    scripted,
    subscription,
)

DAY = 24 * 3600


async def test_five_days_of_failures_disable_and_announce(
    rt: Runtime,
    clock: FrozenClock,
    engine: DeliveryEngine,
    receivers,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    failing = await receivers(scripted([500]))
    watcher = await receivers()
    tenant = await make_tenant(rt)
    sub = await make_subscription(rt, tenant, failing.url)
    watch = await make_subscription(rt, tenant, watcher.url, event_type="subscription.disabled")
    ids = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, ids)
    await engine.run_until_idle()
    started = (await subscription(rt, sub.id)).failing_since
    assert started == clock.now()

    clock.advance(4 * DAY)
    await engine.run_until_idle()
    assert await disable_failing(rt) == []
    clock.advance(DAY + 1)
    counted = REGISTRY.get_sample_value("hub_subscriptions_auto_disabled_total") or 0.0
    assert await disable_failing(rt) == [sub.id]
    assert await disable_failing(rt) == []  # once
    assert REGISTRY.get_sample_value("hub_subscriptions_auto_disabled_total") == counted + 1

    disabled = await subscription(rt, sub.id)
    assert disabled.status == "disabled"
    assert disabled.disabled_reason is not None
    async with rt.db.session() as session:
        [entry] = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "subscription.auto_disabled")
        )
    assert entry.target_id == sub.id

    await engine.run_until_idle()
    [announced] = watcher.received
    event = json.loads(announced.body)
    assert event["type"] == "subscription.disabled"
    assert event["data"]["subscription_id"] == sub.id
    assert event["data"]["event_type"] == "lead.created"
    assert "target_url" not in event["data"]  # a hook URL is a bearer capability
    before = len(failing.received)
    clock.advance(DAY)
    await engine.run_until_idle()
    assert len(failing.received) == before  # nothing more goes to a disabled subscription
    assert watch.id

    # An admin re-enables it: the count starts again.
    r = await client.post(f"/admin/v1/subscriptions/{sub.id}/resume", headers=admin_headers)
    assert r.status_code == 200, r.text
    assert await disable_failing(rt) == []


async def test_a_success_clears_the_failing_clock(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([500, 200]))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    ids = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, ids)
    await engine.run_until_idle()
    assert (await subscription(rt, sub.id)).failing_since is not None
    clock.advance(10)
    await engine.run_until_idle()
    assert (await subscription(rt, sub.id)).failing_since is None
    clock.advance(6 * DAY)
    assert await disable_failing(rt) == []
