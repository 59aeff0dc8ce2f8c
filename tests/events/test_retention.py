"""Retention: raw payloads and finished deliveries' bodies are purged on time, and
nothing still to be sent is ever touched."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from hub.app import CRON_JOBS
from hub.clock import FrozenClock
from hub.delivery.models import Delivery
from hub.events.retention import (
    purge_delivery_bodies,
    purge_delivery_bodies_job,
    purge_event_payloads,
    purge_event_payloads_job,
)
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

DAY = 24 * 3600


async def test_event_payloads_are_purged_after_retention_and_stay_deduplicated(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, clock: FrozenClock
) -> None:
    key = await publisher(factory, (await factory.tenant())["id"])
    await publish(client, key, event("old"))
    clock.advance(6 * DAY)
    await publish(client, key, event("recent"))
    clock.advance(DAY + 1)

    assert await purge_event_payloads(rt) == 1
    stored = {e.producer_id: e for e in await all_events(rt)}
    assert stored["old"].data is None
    assert stored["recent"].data is not None
    assert await purge_event_payloads(rt) == 0  # idempotent

    # The row remains: the producer id is still a duplicate.
    assert (await publish(client, key, event("old"))).json()["duplicates"] == 1


async def test_only_finished_deliveries_lose_their_body(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, clock: FrozenClock
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    zap = await subscriber(factory, tenant["id"])
    await subscribe(client, zap["api_key"])
    statuses = ["pending", "retrying", "delivered", "dead", "cancelled"]
    await publish(client, key, {"events": [event(s) for s in statuses]})
    deliveries = await all_deliveries(rt)
    async with rt.db.transaction() as session:
        for d, status in zip(deliveries, statuses, strict=True):
            await session.execute(update(Delivery).where(Delivery.id == d.id).values(status=status))
    clock.advance(14 * DAY - 1)
    assert await purge_delivery_bodies(rt) == 0
    clock.advance(2)
    assert await purge_delivery_bodies(rt) == 3
    kept = {d.status: d.body is not None for d in await all_deliveries(rt)}
    assert kept == {
        "pending": True,
        "retrying": True,
        "delivered": False,
        "dead": False,
        "cancelled": False,
    }


async def test_purges_run_as_cron_jobs(rt: Runtime) -> None:
    registered = {job.coroutine for job in CRON_JOBS}
    assert {purge_event_payloads_job, purge_delivery_bodies_job} <= registered
    assert await purge_event_payloads_job({"rt": rt}) == 0
    assert await purge_delivery_bodies_job({"rt": rt}) == 0
