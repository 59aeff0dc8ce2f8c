"""The delivery engine's arq jobs. Each takes no payload and is idempotent."""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from hub.delivery import ready
from hub.delivery.autodisable import disable_failing
from hub.delivery.runtime import engine_of
from hub.delivery.sweeper import start_gauges, sweep_if_elected
from hub.runtime import Runtime


async def delivery_pump(ctx: dict[str, Any]) -> int:
    """One pump round (see ``hub.delivery.engine``); queued by ``ready.wake``."""
    rt: Runtime = ctx["rt"]
    return await engine_of(rt).pump()


async def delivery_tick(ctx: dict[str, Any]) -> None:
    """Every few seconds: sweep (if elected) and make sure the next due lane has a pump."""
    rt: Runtime = ctx["rt"]
    engine = engine_of(rt)
    await sweep_if_elected(rt, engine.breaker)
    now = rt.clock.now()
    if await ready.has_work(rt, now):
        await ready.wake(rt)
    await ready.schedule_next(rt, now)


async def subscription_auto_disable(ctx: dict[str, Any]) -> int:
    rt: Runtime = ctx["rt"]
    return len(await disable_failing(rt))


TICK_SECONDS = 5

STARTUP = [start_gauges]
JOBS = [delivery_pump]
CRON_JOBS = [
    # Not every second: a cron job always queued would keep ``hub worker --burst``
    # from ever finding the queue empty. Precise wake-ups are deferred pump jobs.
    cron(delivery_tick, second=set(range(0, 60, TICK_SECONDS)), run_at_startup=True, timeout=60),
    cron(subscription_auto_disable, second=30, timeout=300),
]
