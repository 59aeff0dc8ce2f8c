"""The delivery engine's arq jobs. Each takes no payload and is idempotent.

The worker (``hub/worker/app.py``) builds one ``DeliveryEngine`` per process and
hands it to the jobs in arq's ``ctx`` (arq's way of sharing a process's resources).
"""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from hub.delivery import ready
from hub.delivery.autodisable import disable_failing
from hub.delivery.engine import DeliveryEngine
from hub.delivery.sweeper import sweep_if_elected
from hub.runtime import Runtime

ENGINE = "delivery_engine"  # the ctx entry the worker fills


def engine_in(ctx: dict[str, Any]) -> DeliveryEngine:
    engine: DeliveryEngine = ctx[ENGINE]
    return engine


async def delivery_pump(ctx: dict[str, Any]) -> int:
    """One pump round (see ``hub.delivery.engine``); queued by ``ready.wake``."""
    return await engine_in(ctx).pump()


async def delivery_tick(ctx: dict[str, Any]) -> None:
    """Every few seconds: sweep (if elected) and make sure the next due lane has a pump."""
    engine = engine_in(ctx)
    rt = engine.rt
    await sweep_if_elected(rt, engine.breaker)
    now = rt.clock.now()
    if await ready.has_work(rt, now):
        await ready.wake(rt)
    await ready.schedule_next(rt, now)


async def subscription_auto_disable(ctx: dict[str, Any]) -> int:
    rt: Runtime = ctx["rt"]
    return len(await disable_failing(rt))


TICK_SECONDS = 5

JOBS = (delivery_pump,)
CRON_JOBS = (
    # Not every second: a cron job always queued would keep ``hub worker --burst``
    # from ever finding the queue empty. Precise wake-ups are deferred pump jobs.
    cron(delivery_tick, second=set(range(0, 60, TICK_SECONDS)), run_at_startup=True, timeout=60),
    cron(subscription_auto_disable, second=30, timeout=300),
)
