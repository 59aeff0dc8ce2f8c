"""How many deliveries a lane may send now: the endpoint's rate and the tenant's quota.

Both are GCRA limits in Redis (``hub.limits``), shared by every worker. A lane
takes its tokens before it claims rows, so throttled deliveries are never
touched: they stay pending and no attempt is consumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from hub.limits.gcra import Limit, RateLimiter


@dataclass(frozen=True, slots=True)
class Grant:
    granted: int
    wait: float  # seconds until the next token (0 if more may follow at once)


def endpoint_limit(rate_per_second: float) -> Limit:
    """``rate_per_second`` with a burst of one second's worth."""
    rate = max(rate_per_second, 1e-3)
    return Limit(count=max(1, round(rate * 60)), period=60.0, burst=max(1, math.ceil(rate)))


def quota_limit(per_minute: int) -> Limit:
    return Limit(count=per_minute, period=60.0)


async def take(limiter: RateLimiter, key: str, limit: Limit, want: int, now: datetime) -> Grant:
    """Up to ``want`` tokens: one to learn what is left, then the rest in one go."""
    if want <= 0:
        return Grant(0, 0.0)
    # Whole milliseconds: the limiter's Lua keeps ~14 significant digits, and a
    # fraction of a millisecond lost there would refuse a burst's last token.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    first = await limiter.hit(key, limit, now)
    if not first.allowed:
        return Grant(0, max(first.retry_after, 1e-3))
    granted = 1
    remaining = first.remaining
    extra = min(want - 1, remaining)
    # The last token of a burst can miss by a float rounding: ask once more for one less.
    for cost in dict.fromkeys((extra, extra - 1)):
        if cost <= 0:
            break
        more = await limiter.hit(key, limit, now, cost=cost)
        if more.allowed:
            granted += cost
            remaining = more.remaining
            break
        remaining = 0
    wait = 0.0 if remaining > 0 else limit.emission_ms / 1000.0
    return Grant(granted, wait)
