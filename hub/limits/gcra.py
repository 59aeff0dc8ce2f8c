"""GCRA rate limiting in Redis: one Lua script, atomic across every process.

Time comes from the caller (``rt.clock``) so tests inject it; hosts are assumed to
keep NTP time. A limit of ``count`` per ``period`` allows a burst of ``burst``
(default ``count``) and then one every ``period / count`` seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

_SCRIPT = """
local now = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local eps = 0.001
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission * cost
local diff = new_tat - now
if diff > tolerance + eps then
  return {0, string.format('%.17g', diff - tolerance), string.format('%.17g', tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', math.ceil(diff) + 1000)
return {1, '0', string.format('%.17g', diff)}
"""
# Rounding guards: full-precision numbers (not Lua's 14-digit tostring) and a
# 1 microsecond slack, so the n-th request of a burst of n is never refused.


class LimiterUnavailable(Exception):
    """Redis did not answer; the caller applies its documented fallback."""


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    period: float  # seconds
    burst: int | None = None

    @property
    def emission_ms(self) -> float:
        return self.period * 1000.0 / self.count

    @property
    def tolerance_ms(self) -> float:
        return self.emission_ms * (self.burst or self.count)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: Limit
    retry_after: float  # seconds until this request would be allowed (0 if allowed)
    remaining: int  # requests still allowed right now
    reset_after: float  # seconds until the bucket is full again

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, rounded up (RFC 9110 delay-seconds)."""
        return str(max(1, math.ceil(self.retry_after)))


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_SCRIPT)

    async def hit(self, key: str, limit: Limit, now: datetime, cost: int = 1) -> Decision:
        if limit.count <= 0:
            return Decision(False, limit, retry_after=limit.period, remaining=0, reset_after=0)
        now_ms = now.timestamp() * 1000.0
        try:
            allowed, a, b = await self._script(
                keys=[key],
                args=[repr(now_ms), repr(limit.emission_ms), repr(limit.tolerance_ms), cost],
            )
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return _decision(bool(int(allowed)), limit, float(a), float(b))


def _decision(allowed: bool, limit: Limit, a_ms: float, b_ms: float) -> Decision:
    emission, tolerance = limit.emission_ms, limit.tolerance_ms
    if allowed:
        used = b_ms  # new_tat - now
        remaining = int((tolerance - used + 0.001) // emission)
        return Decision(True, limit, 0.0, max(0, remaining), used / 1000.0)
    return Decision(False, limit, a_ms / 1000.0, 0, b_ms / 1000.0)
