"""A circuit breaker per subscription, in Redis so every worker shares it.

closed -> open when, in the sliding window, at least ``min_attempts`` attempts
were made and at least ``failure_ratio`` of them failed, or ``consecutive``
failed in a row. Open for a cool-down (30 s, doubling while probes fail, at most
10 min); after it one probe is let through (half-open); its success closes the
breaker, its failure opens it again. Losing Redis closes every breaker: that is
safe, only slower to notice a dead receiver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from redis.asyncio import Redis

from hub.kv.keys import RedisKeys

Gate = Literal["closed", "probe", "open"]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    window_seconds: int = 300
    bucket_seconds: int = 10
    min_attempts: int = 10
    failure_ratio: float = 0.5
    consecutive: int = 5
    cooldown_seconds: float = 30.0
    max_cooldown_seconds: float = 600.0
    # A probe that never reports (its worker died) frees the slot after this.
    probe_lease_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class BreakerState:
    state: Literal["closed", "open", "half_open"]
    open_until: float | None  # epoch seconds
    cooldown_seconds: float
    consecutive_failures: int
    window_attempts: int
    window_failures: int


_GATE = """
local st = redis.call('HMGET', KEYS[1], 'state', 'open_until', 'probe_until')
if st[1] ~= 'open' then return {'closed', '0'} end
local now = tonumber(ARGV[1])
local open_until = tonumber(st[2]) or 0
if now < open_until then return {'open', tostring(open_until - now)} end
local probe_until = tonumber(st[3]) or 0
if now < probe_until then return {'open', tostring(math.min(probe_until - now, 1000))} end
redis.call('HSET', KEYS[1], 'probe_until', tostring(now + tonumber(ARGV[2])))
return {'probe', '0'}
"""

_RELEASE_PROBE = """
redis.call('HSET', KEYS[1], 'probe_until', '0')
return 1
"""

# KEYS: state, window, open set.  ARGV: now_ms, ok, fail, trailing_failures,
# had_success, probe, window_ms, bucket_ms, min_attempts, ratio, consecutive,
# cooldown_ms, max_cooldown_ms, subscription id, ttl_ms
_RECORD = """
local now = tonumber(ARGV[1])
local ok = tonumber(ARGV[2])
local fail = tonumber(ARGV[3])
local trailing = tonumber(ARGV[4])
local had_success = tonumber(ARGV[5])
local probe = tonumber(ARGV[6])
local window_ms = tonumber(ARGV[7])
local bucket_ms = tonumber(ARGV[8])
local base = tonumber(ARGV[12])
local max_cd = tonumber(ARGV[13])
local sub = ARGV[14]
local ttl = tonumber(ARGV[15])
local bucket = math.floor(now / bucket_ms)
if ok > 0 then redis.call('HINCRBY', KEYS[2], 'o:' .. bucket, ok) end
if fail > 0 then redis.call('HINCRBY', KEYS[2], 'f:' .. bucket, fail) end
redis.call('PEXPIRE', KEYS[2], window_ms * 2)
local st = redis.call('HMGET', KEYS[1], 'state', 'cooldown', 'consecutive')
local state = st[1] or 'closed'
local cooldown = tonumber(st[2]) or base
local consec = tonumber(st[3]) or 0
if had_success == 1 then consec = trailing else consec = consec + fail end
local function open_for(cd)
  redis.call('HSET', KEYS[1], 'state', 'open', 'open_until', tostring(now + cd),
             'cooldown', tostring(cd), 'probe_until', '0', 'consecutive', tostring(consec))
  redis.call('ZADD', KEYS[3], (now + cd) / 1000.0, sub)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 'open'
end
if probe == 1 then
  if ok > 0 then
    redis.call('DEL', KEYS[1], KEYS[2])
    redis.call('ZREM', KEYS[3], sub)
    return 'closed'
  end
  return open_for(math.min(cooldown * 2, max_cd))
end
if state == 'open' then
  redis.call('HSET', KEYS[1], 'consecutive', tostring(consec))
  return 'open'
end
if fail > 0 then
  if consec >= tonumber(ARGV[11]) then return open_for(base) end
  local oldest = bucket - math.floor(window_ms / bucket_ms) + 1
  local total, failed = 0, 0
  local fields = redis.call('HGETALL', KEYS[2])
  for i = 1, #fields, 2 do
    local name = fields[i]
    local b = tonumber(string.sub(name, 3))
    if b < oldest then
      redis.call('HDEL', KEYS[2], name)
    else
      local n = tonumber(fields[i + 1])
      total = total + n
      if string.sub(name, 1, 1) == 'f' then failed = failed + n end
    end
  end
  if total >= tonumber(ARGV[9]) and failed >= tonumber(ARGV[10]) * total then
    return open_for(base)
  end
end
if consec > 0 then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'consecutive', tostring(consec))
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('DEL', KEYS[1])
end
return 'closed'
"""


@dataclass(frozen=True, slots=True)
class Tally:
    """One subscription's outcomes from one batch, in completion order."""

    ok: int
    failed: int
    trailing_failures: int  # failures after the last success in the batch
    had_success: bool

    @classmethod
    def of(cls, outcomes: list[bool]) -> Tally:
        trailing = 0
        for ok in reversed(outcomes):
            if ok:
                break
            trailing += 1
        ok_count = sum(outcomes)
        return cls(ok_count, len(outcomes) - ok_count, trailing, ok_count > 0)


class Breaker:
    def __init__(self, redis: Redis, keys: RedisKeys, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._keys = keys
        self._redis = redis
        self._gate = redis.register_script(_GATE)
        self._release = redis.register_script(_RELEASE_PROBE)
        self._record = redis.register_script(_RECORD)

    async def gate(self, subscription_id: str, now: datetime) -> tuple[Gate, float]:
        """May the lane send? ``probe``: exactly one delivery. Second value: seconds to wait."""
        gate, wait_ms = await self._gate(
            keys=[self._keys.breaker(subscription_id)],
            args=[_ms(now), int(self.policy.probe_lease_seconds * 1000)],
        )
        return _text(gate), float(wait_ms) / 1000.0  # type: ignore[return-value]

    async def release_probe(self, subscription_id: str) -> None:
        await self._release(keys=[self._keys.breaker(subscription_id)], args=[])

    async def record(
        self, subscription_id: str, tally: Tally, now: datetime, *, probe: bool
    ) -> str:
        p = self.policy
        result = await self._record(
            keys=[
                self._keys.breaker(subscription_id),
                self._keys.breaker_window(subscription_id),
                self._keys.breakers_open,
            ],
            args=[
                _ms(now),
                tally.ok,
                tally.failed,
                tally.trailing_failures,
                int(tally.had_success),
                int(probe),
                p.window_seconds * 1000,
                p.bucket_seconds * 1000,
                p.min_attempts,
                repr(p.failure_ratio),
                p.consecutive,
                int(p.cooldown_seconds * 1000),
                int(p.max_cooldown_seconds * 1000),
                subscription_id,
                int((p.max_cooldown_seconds + p.window_seconds) * 2000),
            ],
        )
        return _text(result)

    async def state(self, subscription_id: str, now: datetime) -> BreakerState:
        raw = await self._redis.hgetall(self._keys.breaker(subscription_id))  # type: ignore[misc]
        window = await self._redis.hgetall(self._keys.breaker_window(subscription_id))  # type: ignore[misc]
        fields = {_text(k): _text(v) for k, v in raw.items()}
        now_ms = _ms(now)
        bucket_ms = self.policy.bucket_seconds * 1000
        oldest = now_ms // bucket_ms - self.policy.window_seconds * 1000 // bucket_ms + 1
        attempts = failures = 0
        for name, value in window.items():
            key = _text(name)
            if int(key[2:]) < oldest:
                continue
            attempts += int(value)
            if key.startswith("f"):
                failures += int(value)
        consecutive = int(fields.get("consecutive", "0") or 0)
        if fields.get("state") != "open":
            return BreakerState(
                "closed", None, self.policy.cooldown_seconds, consecutive, attempts, failures
            )
        open_until = float(fields.get("open_until", "0")) / 1000.0
        state: Literal["open", "half_open"] = (
            "open" if now.timestamp() < open_until else "half_open"
        )
        cooldown = float(fields.get("cooldown", "0")) / 1000.0
        return BreakerState(state, open_until, cooldown, consecutive, attempts, failures)

    async def counts(self, now: datetime) -> dict[str, int]:
        """Subscriptions per state (for the gauge); closed ones are not counted."""
        # A breaker whose state expired (its subscription went quiet or away)
        # leaves its entry behind: drop those first.
        members = await self._redis.zrange(self._keys.breakers_open, 0, -1)
        if members:
            async with self._redis.pipeline(transaction=False) as pipe:
                for member in members:
                    pipe.exists(self._keys.breaker(_text(member)))
                alive = await pipe.execute()
            stale = [m for m, ok in zip(members, alive, strict=True) if not ok]
            if stale:
                await self._redis.zrem(self._keys.breakers_open, *stale)
        total = await self._redis.zcard(self._keys.breakers_open)
        half_open = await self._redis.zcount(self._keys.breakers_open, "-inf", now.timestamp())
        return {"open": int(total) - int(half_open), "half_open": int(half_open)}


def _ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
