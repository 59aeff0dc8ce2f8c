"""The in-process fallback decides exactly like the shared Redis limiter (hypothesis)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.limits.gcra import Limit
from hub.limits.local import LocalLimiter
from hub.limits.multi import MultiLimiter
from hub.runtime import Runtime

limits = st.lists(
    st.builds(
        Limit,
        count=st.integers(min_value=0, max_value=20),
        period=st.sampled_from([1.0, 60.0, 3600.0, 86400.0]),
    ),
    min_size=1,
    max_size=3,
)
# Each step: seconds to wait, then which of the buckets the request needs.
steps = st.lists(
    st.tuples(st.floats(min_value=0, max_value=30), st.integers(min_value=1, max_value=7)),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limits=limits, steps=steps)
async def test_local_matches_redis(
    rt: Runtime, limits: list[Limit], steps: list[tuple[float, int]]
) -> None:
    prefix = uuid.uuid4().hex
    shared = MultiLimiter(rt.redis)
    local = LocalLimiter()
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    for wait, mask in steps:
        now += timedelta(seconds=wait)
        buckets = [
            (rt.keys.rate_limit("prop", f"{prefix}-{i}", "w"), limit)
            for i, limit in enumerate(limits)
            if mask & (1 << i)
        ] or [(rt.keys.rate_limit("prop", f"{prefix}-0", "w"), limits[0])]
        expected = await shared.hit(buckets, now)
        got = local.hit(buckets, now)
        assert [d.allowed for d in got] == [d.allowed for d in expected]
        assert [d.remaining for d in got] == [d.remaining for d in expected]
        assert [d.retry_after_header for d in got if not d.allowed] == [
            d.retry_after_header for d in expected if not d.allowed
        ]
