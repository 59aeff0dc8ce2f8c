"""Several GCRA limits checked and charged together: all or nothing, one round trip.

A request that passes the integration's per-minute limit but not the tenant's
per-day quota must not use up the integration's budget. One Lua script reads
every bucket, and charges them only if all allow. The arithmetic is
``hub.limits.gcra``'s, with two guards against floating point: times are whole
milliseconds stored with full precision (``%.17g``, not Lua's 14-digit
``tostring``), and comparisons allow ``EPSILON_MS``, so the n-th request of a burst
of n is never refused for a rounding error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.limits.gcra import Decision, Limit, LimiterUnavailable

# Rounding slack in milliseconds; far below anything a client could notice.
EPSILON_MS = 0.001


def now_ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def decision(allowed: bool, limit: Limit, a_ms: float, b_ms: float) -> Decision:
    """``a``/``b``: wait and "tat - now" when refused; 0 and "new tat - now" when allowed."""
    if allowed:
        remaining = int((limit.tolerance_ms - b_ms + EPSILON_MS) // limit.emission_ms)
        return Decision(True, limit, 0.0, max(0, remaining), b_ms / 1000.0)
    return Decision(False, limit, round(a_ms - EPSILON_MS, 3) / 1000.0, 0, b_ms / 1000.0)


_SCRIPT = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local eps = tonumber(ARGV[3])
local results = {}
local new_tats = {}
local all_allowed = true
for i = 1, #KEYS do
  local emission = tonumber(ARGV[2 + 2 * i])
  local tolerance = tonumber(ARGV[3 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + emission * cost
  local diff = new_tat - now
  if diff > tolerance + eps then
    all_allowed = false
    results[i] = {0, string.format('%.17g', diff - tolerance), string.format('%.17g', tat - now)}
  else
    new_tats[i] = new_tat
    results[i] = {1, '0', string.format('%.17g', diff)}
  end
end
if all_allowed then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], string.format('%.17g', new_tats[i]), 'PX',
      math.ceil(new_tats[i] - now) + 1000)
  end
end
return results
"""


def zero_limit_decisions(buckets: Sequence[tuple[str, Limit]]) -> list[Decision] | None:
    """A zero limit refuses without touching any state; the other buckets are not charged."""
    if not any(limit.count <= 0 for _, limit in buckets):
        return None
    return [_refused(limit) if limit.count <= 0 else _untouched(limit) for _, limit in buckets]


def _refused(limit: Limit) -> Decision:
    return Decision(False, limit, retry_after=limit.period, remaining=0, reset_after=0)


def _untouched(limit: Limit) -> Decision:
    return Decision(
        True, limit, retry_after=0.0, remaining=limit.burst or limit.count, reset_after=0
    )


class MultiLimiter:
    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_SCRIPT)

    async def hit(
        self, buckets: Sequence[tuple[str, Limit]], now: datetime, cost: int = 1
    ) -> list[Decision]:
        """One decision per bucket; the request is allowed only if every one allows."""
        if not buckets:
            return []
        zero = zero_limit_decisions(buckets)
        if zero is not None:
            return zero
        args: list[str | int] = [now_ms(now), cost, repr(EPSILON_MS)]
        for _, limit in buckets:
            args += [repr(limit.emission_ms), repr(limit.tolerance_ms)]
        try:
            rows = await self._script(keys=[key for key, _ in buckets], args=args)
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return [
            decision(bool(int(allowed)), limit, float(a), float(b))
            for (allowed, a, b), (_, limit) in zip(rows, buckets, strict=True)
        ]
