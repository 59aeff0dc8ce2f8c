"""Scripted receivers on loopback: what each answer does to the delivery. Time is injected."""

from __future__ import annotations

import socket
from datetime import timedelta

from sqlalchemy import select

from hub.audit.models import AuditEntry
from hub.clock import FrozenClock
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.runtime import Runtime
from tests.delivery.support import (
    attempts,
    delivery,
    make_deliveries,
    make_subscription,
    make_tenant,
    scripted,
    slow,
    statuses,
    subscription,
)


async def later(engine: DeliveryEngine, clock: FrozenClock, seconds: float) -> int:
    clock.advance(seconds)
    return await engine.run_until_idle()


async def test_500_500_200_is_three_attempts_then_delivered(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([500, 500, 200]))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    assert await engine.run_until_idle() == 1
    first = await delivery(rt, delivery_id)
    assert first.status == "retrying"
    assert timedelta(seconds=4) <= first.next_attempt_at - clock.now() <= timedelta(seconds=6)
    assert await later(engine, clock, 3) == 0  # not due yet
    assert await later(engine, clock, 4) == 1
    second = await delivery(rt, delivery_id)
    assert second.status == "retrying"
    assert second.attempt_count == 2
    assert await later(engine, clock, 6 * 60) == 1

    done = await delivery(rt, delivery_id)
    assert done.status == "delivered"
    assert done.attempt_count == 3
    assert receiver.counts() == {delivery_id: 3}  # the same webhook-id every time
    assert [a.status_code for a in await attempts(rt, delivery_id)] == [500, 500, 200]
    assert [a.number for a in await attempts(rt, delivery_id)] == [1, 2, 3]
    assert await later(engine, clock, 24 * 3600) == 0  # never again after a 2xx
    assert receiver.count(delivery_id) == 3


async def test_410_deletes_the_subscription_without_dlq(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([410]))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url, rate_per_second=1)
    ids = await make_deliveries(rt, sub, 3)
    await enqueue_deliveries(rt, ids)

    await engine.run_until_idle()  # the rate lets one through; it answers 410

    assert (await subscription(rt, sub.id)).status == "deleted"
    assert await statuses(rt, ids) == {"cancelled": 3}
    assert len(receiver.received) == 1
    assert await later(engine, clock, 3600) == 0
    async with rt.db.session() as session:
        [entry] = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "subscription.gone")
        )
    assert entry.target_id == sub.id
    assert entry.tenant_id == sub.tenant_id


async def test_400_goes_to_the_dlq_after_two_attempts(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([400]))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()
    assert (await delivery(rt, delivery_id)).status == "retrying"
    await later(engine, clock, 10)

    dead = await delivery(rt, delivery_id)
    assert dead.status == "dead"
    assert dead.attempt_count == 2
    assert dead.last_error_class == "http_400"
    assert await later(engine, clock, 48 * 3600) == 0
    assert receiver.count(delivery_id) == 2


async def test_429_retry_after_is_honoured_within_twice_the_schedule(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([429, 200], headers={"Retry-After": "120"}))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    d = await delivery(rt, delivery_id)
    wait = (d.next_attempt_at - clock.now()).total_seconds()
    scheduled = 60.0  # 5 s jittered, floored at a minute after a 429
    assert 120 <= wait <= 2 * scheduled
    assert await later(engine, clock, 119) == 0
    assert await later(engine, clock, 1.01) == 1
    assert (await delivery(rt, delivery_id)).status == "delivered"


async def test_retry_after_longer_than_twice_the_schedule_is_clamped(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([503], headers={"Retry-After": "86400"}))
    tenant = await make_tenant(rt, retry_schedule=[100, 100])
    sub = await make_subscription(rt, tenant, receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    d = await delivery(rt, delivery_id)
    wait = (d.next_attempt_at - clock.now()).total_seconds()
    assert 2 * 80 <= wait <= 2 * 120


async def test_slow_receiver_times_out_and_is_retried(
    rt: Runtime, clock: FrozenClock, engines, receivers
) -> None:
    engine = engines(delivery_timeout_seconds=0.3)
    receiver = await receivers(slow(3))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    d = await delivery(rt, delivery_id)
    assert d.status == "retrying"
    assert d.last_error_class == "timeout"
    assert d.last_status_code is None
    assert d.next_attempt_at - clock.now() >= timedelta(seconds=60)
    [attempt] = await attempts(rt, delivery_id)
    assert attempt.error_class == "timeout"
    assert 250 <= attempt.duration_ms < 2000


async def test_connection_refused_is_retried(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    sub = await make_subscription(rt, await make_tenant(rt), f"http://127.0.0.1:{port}/hook")
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()

    d = await delivery(rt, delivery_id)
    assert d.status == "retrying"
    assert d.last_error_class == "connection"


async def test_the_tenant_schedule_replaces_the_default_until_dead(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([500]))
    tenant = await make_tenant(rt, retry_schedule=[10, 20])
    sub = await make_subscription(rt, tenant, receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()
    await later(engine, clock, 13)
    assert (await delivery(rt, delivery_id)).attempt_count == 2
    await later(engine, clock, 25)

    d = await delivery(rt, delivery_id)
    assert d.status == "dead"
    assert d.attempt_count == 3
    assert await later(engine, clock, 3600) == 0


async def test_default_schedule_exhausted_means_dead(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers(scripted([502]))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    await enqueue_deliveries(rt, [delivery_id])

    await engine.run_until_idle()
    for _ in range(7):
        await later(engine, clock, 12 * 3600)

    d = await delivery(rt, delivery_id)
    assert d.status == "dead"
    assert d.attempt_count == 8
    assert receiver.count(delivery_id) == 8
