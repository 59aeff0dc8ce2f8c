"""Noisy neighbour: a tenant flooding a slow receiver does not slow another tenant down.

Real time here (the point is latency), through a real arq worker in this process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import statistics
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hub.app import Hub
from hub.clock import SystemClock
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.jobs import engine_in
from hub.delivery.models import Delivery
from hub.runtime import Runtime
from hub.worker.app import build_worker
from tests.delivery.support import Sub, make_deliveries, make_subscription, make_tenant, slow

# Real time, on a shared 2-core machine: a measurement, run on demand (pytest -m latency).
# In the suite it hung twice past 240 s in a run of four (not understood yet: see the
# stop-19 closing note), so it stays out of the README's test command.
pytestmark = [pytest.mark.slow, pytest.mark.latency]

FLOOD = 20_000
PHASE_SECONDS = 5.0


async def steady_traffic(rt: Runtime, sub: Sub, seconds: float) -> list[float]:
    """One delivery every 100 ms; their ingest-to-delivered latencies."""
    ids: list[str] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        new = await make_deliveries(rt, sub, 1, received_at=datetime.now(UTC))
        await enqueue_deliveries(rt, new)
        ids += new
        await asyncio.sleep(0.1)
    deadline = time.monotonic() + 30
    while True:
        async with rt.db.session() as session:
            rows = (
                await session.execute(
                    select(Delivery.delivered_at, Delivery.event_received_at).where(
                        Delivery.id.in_(ids)
                    )
                )
            ).all()
        if all(done is not None for done, _ in rows):
            return [(done - received).total_seconds() for done, received in rows]
        assert time.monotonic() < deadline, "the quiet tenant's deliveries did not arrive"
        await asyncio.sleep(0.1)


async def test_a_flooding_tenant_does_not_slow_another_one_down(hub: Hub, receivers) -> None:
    live = dataclasses.replace(hub.rt, clock=SystemClock())
    slow_receiver = await receivers(slow(0.3))
    quick_receiver = await receivers()
    noisy = await make_subscription(live, await make_tenant(live), slow_receiver.url)
    quiet = await make_subscription(live, await make_tenant(live), quick_receiver.url)
    worker = build_worker(dataclasses.replace(hub, rt=live), handle_signals=False, poll_delay=0.05)
    running = asyncio.create_task(worker.main())
    try:
        idle = await steady_traffic(live, quiet, PHASE_SECONDS)

        flood = await make_deliveries(live, noisy, FLOOD)
        for start in range(0, FLOOD, 500):  # as ingest hands them over, batch by batch
            await enqueue_deliveries(live, flood[start : start + 500])
        loaded = await steady_traffic(live, quiet, PHASE_SECONDS)
    finally:
        worker.handle_sig(signal.SIGUSR1)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await engine_in(worker.ctx).aclose()

    idle_p50, loaded_p50 = statistics.median(idle), statistics.median(loaded)
    idle_p95 = statistics.quantiles(idle, n=20)[-1]
    loaded_p95 = statistics.quantiles(loaded, n=20)[-1]
    print(
        f"quiet tenant latency p50 {idle_p50 * 1000:.0f} -> {loaded_p50 * 1000:.0f} ms, "
        f"p95 {idle_p95 * 1000:.0f} -> {loaded_p95 * 1000:.0f} ms; "
        f"noisy receiver got {len(slow_receiver.received)}"
    )
    # Within 2x of the idle run. The floors keep a busy shared CI machine's scheduling
    # noise (tens of ms at the median, a few hundred at the tail) from deciding it.
    assert loaded_p50 <= 2 * max(idle_p50, 0.05)
    assert loaded_p95 <= 2 * max(idle_p95, 0.25)
    # The flood was paced at its endpoint's 20/s, not sent as fast as possible.
    assert len(slow_receiver.received) <= 20 * (PHASE_SECONDS + 6) + 20
