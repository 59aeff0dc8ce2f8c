from __future__ import annotations

from hub.clock import FrozenClock
from hub.limits.gcra import Limit, RateLimiter
from hub.runtime import Runtime


async def test_allows_burst_then_spaces_requests(rt: Runtime, clock: FrozenClock) -> None:
    limiter = RateLimiter(rt.redis)
    key = rt.keys.rate_limit("test", "subject", "minute")
    limit = Limit(count=5, period=60)
    decisions = [await limiter.hit(key, limit, clock.now()) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert 11.9 < decisions[5].retry_after <= 12.0
    assert decisions[5].retry_after_header == "12"
    clock.advance(12)
    assert (await limiter.hit(key, limit, clock.now())).allowed
    assert not (await limiter.hit(key, limit, clock.now())).allowed


async def test_full_burst_is_never_refused_for_rounding(rt: Runtime, clock: FrozenClock) -> None:
    limiter = RateLimiter(rt.redis)
    for count, period in ((3, 1.0), (7, 60.0), (20, 1.0), (30, 86400.0)):
        key = rt.keys.rate_limit("test", f"burst-{count}", "w")
        limit = Limit(count=count, period=period)
        allowed = [(await limiter.hit(key, limit, clock.now())).allowed for _ in range(count)]
        assert all(allowed), (count, period)
        assert not (await limiter.hit(key, limit, clock.now())).allowed
