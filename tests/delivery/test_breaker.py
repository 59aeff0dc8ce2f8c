"""Circuit breaker per subscription: opens on failures, probes, closes; others unaffected."""

from __future__ import annotations

from datetime import timedelta

import httpx
from prometheus_client import REGISTRY

from hub.clock import FrozenClock
from hub.delivery.breaker import Breaker, Tally
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.delivery.sweeper import sweep
from hub.runtime import Runtime
from tests.delivery.support import (
    Received,
    Receiver,
    make_deliveries,
    make_subscription,
    make_tenant,
    statuses,
)


class Switch:
    """A receiver that is down until told otherwise."""

    def __init__(self) -> None:
        self.status = 503

    async def __call__(self, receiver: Receiver, got: Received):  # type: ignore[no-untyped-def]
        from aiohttp import web

        return web.Response(status=self.status)


async def later(engine: DeliveryEngine, clock: FrozenClock, seconds: float) -> int:
    clock.advance(seconds)
    return await engine.run_until_idle()


async def health(client: httpx.AsyncClient, headers: dict[str, str], sub_id: str) -> dict:
    r = await client.get(f"/admin/v1/subscriptions/{sub_id}/health", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_dead_receiver_gets_only_probes_while_open_then_recovers(
    rt: Runtime,
    clock: FrozenClock,
    engine: DeliveryEngine,
    receivers,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    switch = Switch()
    dead = await receivers(switch)
    healthy = await receivers()
    tenant = await make_tenant(rt)
    sub_a = await make_subscription(rt, tenant, dead.url)
    sub_b = await make_subscription(rt, tenant, healthy.url)
    ids_a = await make_deliveries(rt, sub_a, 20)
    await enqueue_deliveries(rt, ids_a)

    await engine.run_until_idle()  # the first burst fails: 20 in a row
    assert len(dead.received) == 20
    state = await health(client, admin_headers, sub_a.id)
    assert state["breaker"]["state"] == "open"
    assert state["breaker"]["consecutive_failures"] == 20
    assert state["deliveries"]["retrying"] == 20
    await sweep(rt, engine.breaker)
    assert REGISTRY.get_sample_value("hub_delivery_breakers", {"state": "open"}) == 1

    # Their retries come due while the breaker is open: deferred, no attempt consumed.
    ids_b = await make_deliveries(rt, sub_b, 3)
    await enqueue_deliveries(rt, ids_b)
    await later(engine, clock, 10)
    assert len(dead.received) == 20
    assert await statuses(rt, ids_b) == {"delivered": 3}  # the other lane is unaffected

    await later(engine, clock, 21)  # cool-down over: one probe, which fails
    assert len(dead.received) == 21
    assert (await health(client, admin_headers, sub_a.id))["breaker"]["cooldown_seconds"] == 60

    await later(engine, clock, 30)  # the cool-down doubled: still open
    assert len(dead.received) == 21

    switch.status = 200
    await later(engine, clock, 31)  # the probe succeeds and closes it; the rest flows

    assert (await health(client, admin_headers, sub_a.id))["breaker"]["state"] == "closed"
    await later(engine, clock, 400)  # the failed probe's own retry (attempt 2 -> ~5 min)
    assert await statuses(rt, ids_a) == {"delivered": 20}
    assert len(dead.received) == 20 + 1 + 1 + 19


async def test_half_of_ten_failing_opens_without_five_in_a_row(
    rt: Runtime, clock: FrozenClock
) -> None:
    breaker = Breaker(rt.redis, rt.keys)
    now = clock.now()
    for _ in range(4):
        assert await breaker.record("sub_x", Tally.of([True, False]), now, probe=False) == "closed"
    # 9 attempts, 4 failed: not enough attempts yet, and never 5 in a row
    assert await breaker.record("sub_x", Tally.of([True]), now, probe=False) == "closed"
    assert await breaker.record("sub_x", Tally.of([False]), now, probe=False) == "open"
    gate, wait = await breaker.gate("sub_x", now + timedelta(seconds=1))
    assert gate == "open"
    assert 28 <= wait <= 29


async def test_old_failures_slide_out_of_the_window(rt: Runtime, clock: FrozenClock) -> None:
    breaker = Breaker(rt.redis, rt.keys)
    start = clock.now()
    await breaker.record("sub_y", Tally.of([False, True] * 4 + [True]), start, probe=False)
    later = start + timedelta(minutes=6)
    # 10 attempts in all, 5 failed, but 4 of those failures are older than 5 minutes.
    assert await breaker.record("sub_y", Tally.of([False]), later, probe=False) == "closed"
    assert (await breaker.state("sub_y", later)).window_attempts == 1


async def test_one_probe_at_a_time_when_half_open(rt: Runtime, clock: FrozenClock) -> None:
    breaker = Breaker(rt.redis, rt.keys)
    now = clock.now()
    await breaker.record("sub_z", Tally.of([False] * 5), now, probe=False)
    after = now + timedelta(seconds=31)
    assert (await breaker.gate("sub_z", after))[0] == "probe"
    assert (await breaker.gate("sub_z", after))[0] == "open"  # the probe is out
    await breaker.release_probe("sub_z")  # it found nothing to send
    assert (await breaker.gate("sub_z", after))[0] == "probe"
    assert await breaker.record("sub_z", Tally.of([True]), after, probe=True) == "closed"
    assert (await breaker.gate("sub_z", after))[0] == "closed"


async def test_the_gauge_forgets_breakers_whose_state_expired(
    rt: Runtime, clock: FrozenClock
) -> None:
    breaker = Breaker(rt.redis, rt.keys)
    now = clock.now()
    await breaker.record("sub_gone", Tally.of([False] * 5), now, probe=False)
    await breaker.record("sub_kept", Tally.of([False] * 5), now, probe=False)
    assert await breaker.counts(now) == {"open": 2, "half_open": 0}
    await rt.redis.delete(rt.keys.breaker("sub_gone"))  # as its TTL would
    assert await breaker.counts(now + timedelta(seconds=31)) == {"open": 0, "half_open": 1}
