"""Postgres is the truth: lost hand-offs, a flushed Redis and dead workers lose nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update

from hub.clock import FrozenClock
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.delivery.outcomes import Observed, decide
from hub.delivery.recording import Outcome, write_outcomes
from hub.delivery.sender import SendResult
from hub.delivery.sweeper import sweep
from hub.hooks.models import Subscription
from hub.kv.connection import create_redis
from hub.runtime import Runtime
from tests.delivery.support import (
    delivery,
    make_deliveries,
    make_subscription,
    make_tenant,
    slow,
    statuses,
)


async def test_enqueue_never_raises_when_redis_is_down(rt: Runtime) -> None:
    unreachable = create_redis("redis://127.0.0.1:1/0")
    try:
        await enqueue_deliveries(dataclasses.replace(rt, redis=unreachable), ["dlv_x"])
    finally:
        await unreachable.aclose()


async def test_the_sweeper_finds_deliveries_whose_hand_off_was_lost(
    rt: Runtime, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    ids = await make_deliveries(rt, sub, 5)  # committed, never handed to the engine

    assert await engine.run_until_idle() == 0
    assert await sweep(rt) == 1
    await engine.run_until_idle()

    assert await statuses(rt, ids) == {"delivered": 5}


async def test_a_redis_flush_mid_run_loses_nothing(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    tenant = await make_tenant(rt)
    subs = [await make_subscription(rt, tenant, receiver.url, rate_per_second=5) for _ in range(3)]
    ids = [i for sub in subs for i in await make_deliveries(rt, sub, 20)]
    await enqueue_deliveries(rt, ids)
    await engine.run_until_idle()
    assert len(receiver.received) == 15  # the bursts; the rest waits for tokens

    # Everything Redis knew (ready lanes, fresh ids, limits, queue) is gone.
    for key in await rt.redis.keys(rt.keys.prefix + "*"):
        await rt.redis.delete(key)
    clock.advance(1)
    assert await engine.run_until_idle() == 0

    for _ in range(10):
        await sweep(rt)
        await engine.run_until_idle()
        clock.advance(1)
    assert await statuses(rt, ids) == {"delivered": 60}
    assert max(receiver.counts().values()) == 1


async def test_a_dead_workers_lease_expires_and_its_late_write_is_ignored(
    rt: Runtime, clock: FrozenClock, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    [delivery_id] = await make_deliveries(rt, sub)
    now = clock.now()
    async with rt.db.transaction() as session:  # a worker claims it, then dies
        [claimed] = await rt.stores.lane_claims.claim(
            session,
            sub.id,
            now=now,
            limit=10,
            lease_until=now + timedelta(seconds=60),
            token="dead-worker",
        )

    await sweep(rt)
    assert await engine.run_until_idle() == 0  # leased: nobody else sends it
    clock.advance(61)
    await sweep(rt)
    await engine.run_until_idle()
    assert (await delivery(rt, delivery_id)).status == "delivered"
    assert receiver.count(delivery_id) == 1

    # The dead worker's write arrives late (say it saw a 500): it must not undo the 2xx.
    failed = SendResult(Observed(500, None), now, 10)
    verdict = decide(
        failed.observed, attempt_number=1, attempt_limit=None, schedule=[5], now=clock.now()
    )
    async with rt.db.transaction() as session:
        written = await write_outcomes(
            session, [Outcome(claimed, failed, verdict)], token="dead-worker", now=clock.now()
        )
    assert written.lost_lease == 1
    assert (await delivery(rt, delivery_id)).status == "delivered"


async def test_paused_lanes_wait_and_resume_through_the_sweeper(
    rt: Runtime, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    ids = await make_deliveries(rt, sub, 2)
    await _set_status(rt, sub.id, "paused")
    await enqueue_deliveries(rt, ids)

    await engine.run_until_idle()
    assert await statuses(rt, ids) == {"pending": 2}
    assert await sweep(rt) == 0

    await _set_status(rt, sub.id, "active")
    await sweep(rt)
    await engine.run_until_idle()
    assert await statuses(rt, ids) == {"delivered": 2}


async def test_deleted_subscriptions_open_deliveries_are_cancelled(
    rt: Runtime, engine: DeliveryEngine, receivers
) -> None:
    receiver = await receivers()
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    ids = await make_deliveries(rt, sub, 2)
    await _set_status(rt, sub.id, "deleted")

    await sweep(rt)
    await enqueue_deliveries(rt, ids)
    await engine.run_until_idle()

    assert await statuses(rt, ids) == {"cancelled": 2}
    assert receiver.received == []


async def test_a_cancelled_pump_finishes_in_flight_sends_and_releases_the_rest(
    rt: Runtime, engines, receivers
) -> None:
    """arq cancels running jobs on SIGTERM; the worker's runtime then closes the engine."""
    engine = engines(delivery_concurrency=2)
    receiver = await receivers(slow(0.5))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url)
    ids = await make_deliveries(rt, sub, 6)
    await enqueue_deliveries(rt, ids)

    job = asyncio.create_task(engine.pump())
    while len(receiver.received) < 2:  # two requests are on the wire
        await asyncio.sleep(0.01)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await engine.aclose()

    assert await statuses(rt, ids) == {"delivered": 2, "pending": 4}
    assert len(receiver.received) == 2
    for delivery_id in ids:
        d = await delivery(rt, delivery_id)
        assert d.lease_token is None
        assert d.lease_until is None
    fresh = engines()
    await fresh.run_until_idle()
    assert await statuses(rt, ids) == {"delivered": 6}
    assert max(receiver.counts().values()) == 1


async def _set_status(rt: Runtime, sub_id: str, status: str) -> None:
    async with rt.db.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == sub_id)
            .values(status=status, updated_at=rt.clock.now())
        )
