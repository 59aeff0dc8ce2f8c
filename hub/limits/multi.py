"""Several GCRA limits checked and charged together: all or nothing, one round trip.

A request that passes the integration's per-minute limit but not the tenant's
per-day quota must not use up the integration's budget. One Lua script reads
every bucket, and charges them only if all allow. The arithmetic is
``hub.limits.gcra``'s, so a single-limit call behaves exactly like ``RateLimiter``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.limits.gcra import Decision, Limit, LimiterUnavailable, _decision

_SCRIPT = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local results = {}
local new_tats = {}
local all_allowed = true
for i = 1, #KEYS do
  local emission = tonumber(ARGV[1 + 2 * i])
  local tolerance = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + emission * cost
  local diff = new_tat - now
  if diff > tolerance then
    all_allowed = false
    results[i] = {0, tostring(diff - tolerance), tostring(tat - now)}
  else
    new_tats[i] = new_tat
    results[i] = {1, '0', tostring(diff)}
  end
end
if all_allowed then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], tostring(new_tats[i]), 'PX', math.ceil(new_tats[i] - now) + 1000)
  end
end
return results
"""


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
        if any(limit.count <= 0 for _, limit in buckets):
            # A zero limit refuses without touching Redis; the others are not charged.
            return [
                _refused(limit) if limit.count <= 0 else _untouched(limit) for _, limit in buckets
            ]
        args: list[str | int] = [repr(now.timestamp() * 1000.0), cost]
        for _, limit in buckets:
            args += [repr(limit.emission_ms), repr(limit.tolerance_ms)]
        try:
            rows = await self._script(keys=[key for key, _ in buckets], args=args)
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return [
            _decision(bool(int(allowed)), limit, float(a), float(b))
            for (allowed, a, b), (_, limit) in zip(rows, buckets, strict=True)
        ]
