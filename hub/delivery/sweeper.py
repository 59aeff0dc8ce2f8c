"""The sweeper: re-finds in Postgres every lane with due work, so nothing is ever stuck.

Covers a lost job, a Redis restart or flush, a worker killed mid-flight (its
leases expire and the rows become due again) and a subscription resumed after a
pause. Runs every ``delivery_sweep_seconds`` on one worker (a Redis marker
elects it); also refreshes the backlog gauges.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update

from hub.delivery import metrics, ready
from hub.delivery.lanes import OPEN_STATUSES
from hub.delivery.models import Delivery
from hub.hooks.models import Subscription
from hub.tenancy.models import Tenant

if TYPE_CHECKING:
    from hub.delivery.breaker import Breaker
    from hub.runtime import Runtime

log = logging.getLogger("hub.delivery")


async def sweep(rt: Runtime, breaker: Breaker | None = None) -> int:
    """Re-mark every lane with open deliveries due before the next sweep; returns how many."""
    now = rt.clock.now()
    horizon = now + timedelta(seconds=max(1, rt.settings.delivery_sweep_seconds))
    async with rt.db.transaction() as session:
        # Unsubscribed hooks: their open deliveries will never go.
        await session.execute(
            update(Delivery)
            .where(
                Delivery.status.in_(OPEN_STATUSES),
                Delivery.subscription_id.in_(
                    select(Subscription.id).where(Subscription.status == "deleted")
                ),
            )
            .values(status="cancelled", lease_until=None, lease_token=None)
            .execution_options(synchronize_session=False)
        )
        rows = await session.execute(
            select(Delivery.subscription_id, func.min(Delivery.next_attempt_at))
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .join(Tenant, Tenant.id == Delivery.tenant_id)
            .where(
                Delivery.status.in_(OPEN_STATUSES),
                Delivery.next_attempt_at <= horizon,
                or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
                Subscription.status == "active",
                Tenant.status == "active",
            )
            .group_by(Delivery.subscription_id)
        )
        lanes: dict[str, datetime] = {sub: when for sub, when in rows}
    await ready.mark_ready(rt, lanes)
    await refresh_gauges(rt, now, breaker)
    if await ready.has_work(rt, now):
        await ready.wake(rt)
    return len(lanes)


async def refresh_gauges(rt: Runtime, now: datetime, breaker: Breaker | None) -> None:
    async with rt.db.session() as session:
        result = await session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.status.in_(("pending", "retrying", "dead")))
            .group_by(Delivery.status)
        )
        counts: dict[str, int] = {status: n for status, n in result}
    metrics.PENDING.set(counts.get("pending", 0))
    metrics.RETRY_BACKLOG.set(counts.get("retrying", 0))
    metrics.DLQ_DEPTH.set(counts.get("dead", 0))
    if breaker is not None:
        for state, count in (await breaker.counts(now)).items():
            metrics.BREAKERS.labels(state).set(count)


async def start_gauges(rt: Runtime, breaker: Breaker) -> None:
    """Every process (API replicas too) keeps the backlog gauges fresh, so whichever
    process is scraped reports the truth, not a zero."""
    interval = max(1, rt.settings.delivery_sweep_seconds)

    async def refresh_forever() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await refresh_gauges(rt, rt.clock.now(), breaker)
            except Exception:
                log.warning("could not refresh delivery gauges", exc_info=True)

    rt.spawn(refresh_forever())


async def sweep_if_elected(rt: Runtime, breaker: Breaker | None = None) -> bool:
    """Sweep unless another worker did within the interval (the marker's TTL)."""
    interval = max(1, rt.settings.delivery_sweep_seconds)
    if not await rt.redis.set(rt.keys.delivery_sweep, b"1", nx=True, ex=interval):
        return False
    await sweep(rt, breaker)
    return True
