"""Which lanes have work, and waking a pump job to do it (all in Redis, all rebuildable).

A lane is one subscription's queue of deliveries. Redis keeps a sorted set of
lanes by the time they next have something due. Postgres stays the truth: if
Redis loses it, the sweeper rebuilds it from the deliveries table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.runtime import Runtime

PUMP_JOB = "delivery_pump"
# While set, a pump job is queued; bursts of enqueues then add one job, not thousands.
WAKE_TTL_MS = 2000
# Lanes due later than this are woken by the periodic tick, not a deferred job.
WAKE_AT_HORIZON_SECONDS = 60.0

_POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do redis.call('ZREM', KEYS[1], due[i]) end
return due
"""


async def mark_ready(rt: Runtime, lanes: Mapping[str, datetime]) -> None:
    """Each lane is due at the given time at the latest (an earlier mark is kept)."""
    if lanes:
        mapping = {sub: when.timestamp() for sub, when in lanes.items()}
        await rt.redis.zadd(rt.keys.delivery_ready, mapping, lt=True)


async def pop_due(rt: Runtime, now: datetime, limit: int) -> list[str]:
    """Take up to ``limit`` lanes due by ``now``; the caller re-marks what it leaves."""
    # A Script is only the text and its SHA-1 (EVALSHA, falling back to EVAL once
    # per server): making one per call costs a hash of 300 bytes, no round trip.
    script = rt.redis.register_script(_POP_DUE)
    raw = await script(keys=[rt.keys.delivery_ready], args=[repr(now.timestamp()), limit])
    return [
        (raw[i].decode() if isinstance(raw[i], bytes) else str(raw[i]))
        for i in range(0, len(raw), 2)
    ]


async def has_work(rt: Runtime, now: datetime) -> bool:
    return bool(await rt.redis.zcount(rt.keys.delivery_ready, "-inf", now.timestamp()))


async def next_due(rt: Runtime) -> float | None:
    first = await rt.redis.zrange(rt.keys.delivery_ready, 0, 0, withscores=True)
    return float(first[0][1]) if first else None


async def wake(rt: Runtime) -> None:
    """Make sure a pump job is queued (one for a burst of calls)."""
    if await rt.redis.set(rt.keys.delivery_wake, b"1", nx=True, px=WAKE_TTL_MS):
        await rt.redis.enqueue_job(PUMP_JOB, _queue_name=rt.keys.queue)


async def wake_at(rt: Runtime, when: datetime) -> None:
    """Queue a pump for ``when`` (lanes coming due: throttled, breaker, retries).

    Deferred arq jobs, one per 100 ms slot (the job id dedupes): a lane paced at
    20/s is woken 20 times a second, not at the next cron tick.
    """
    slot = math.ceil(when.timestamp() * 10)
    await rt.redis.enqueue_job(
        PUMP_JOB,
        _job_id=f"{rt.keys.prefix}pump-at:{slot}",
        _queue_name=rt.keys.queue,
        _defer_until=datetime.fromtimestamp(slot / 10, UTC),
    )


async def schedule_next(rt: Runtime, now: datetime) -> None:
    """Make sure the next due lane has a pump coming (now, or deferred until it is due)."""
    upcoming = await next_due(rt)
    if upcoming is None:
        return
    if upcoming <= now.timestamp():
        await wake(rt)
    elif upcoming - now.timestamp() <= WAKE_AT_HORIZON_SECONDS:
        await wake_at(rt, datetime.fromtimestamp(upcoming, UTC))


async def clear_wake(rt: Runtime) -> None:
    """A pump starts: later work must queue another one."""
    await rt.redis.delete(rt.keys.delivery_wake)
