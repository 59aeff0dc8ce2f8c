"""The outcome rules, for every input (pure functions, no network)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.delivery.outcomes import (
    DEFAULT_SCHEDULE,
    Observed,
    decide,
    kind_of,
    parse_retry_after,
    retry_delay,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
codes = st.integers(min_value=100, max_value=599)
schedules = st.lists(st.integers(min_value=1, max_value=7 * 24 * 3600), min_size=1, max_size=20)


@given(codes)
def test_every_status_code_has_one_meaning(code: int) -> None:
    kind = kind_of(Observed(code, None))
    if 200 <= code < 300:
        assert kind == "delivered"
    elif code == 410:
        assert kind == "gone"
    elif code in (408, 425, 429) or code >= 500:
        assert kind == "retriable"
    else:
        assert kind == "permanent"


@given(
    scheduled=st.floats(min_value=1, max_value=36000),
    slowdown=st.booleans(),
    retry_after=st.none() | st.floats(min_value=0, max_value=10**7),
    seed=st.integers(),
)
def test_delay_is_jittered_floored_and_clamped(
    scheduled: float, slowdown: bool, retry_after: float | None, seed: int
) -> None:
    delay = retry_delay(
        scheduled, slowdown=slowdown, retry_after=retry_after, rng=random.Random(seed)
    )
    base = retry_delay(scheduled, slowdown=slowdown, retry_after=None, rng=random.Random(seed))
    assert scheduled * 0.8 <= base or slowdown
    assert base <= max(scheduled * 1.2, 60.0 if slowdown else 0.0)
    if slowdown:
        assert base >= 60.0
    if retry_after is None:
        assert delay == base
    else:
        # Honoured, but never sooner than our schedule nor later than twice it.
        assert delay == min(max(retry_after, base), 2 * base)


@given(codes, st.integers(min_value=1, max_value=30), schedules, st.integers())
def test_attempts_never_exceed_the_schedule(
    code: int, attempt: int, schedule: list[int], seed: int
) -> None:
    verdict = decide(
        Observed(code, None),
        attempt_number=attempt,
        attempt_limit=None,
        schedule=schedule,
        now=NOW,
        rng=random.Random(seed),
    )
    if verdict.status == "retrying":
        assert attempt < len(schedule) + 1
        assert verdict.next_attempt_at is not None
        assert verdict.next_attempt_at > NOW
    if attempt >= len(schedule) + 1 and verdict.status not in ("delivered", "cancelled"):
        assert verdict.status == "dead"


def test_default_schedule_is_eight_attempts_over_about_27_hours() -> None:
    assert len(DEFAULT_SCHEDULE) + 1 == 8
    assert 27 < sum(DEFAULT_SCHEDULE) / 3600 < 28


def test_other_4xx_gets_one_more_try_after_the_first_delay_then_dead() -> None:
    first = decide(
        Observed(400, None),
        attempt_number=3,
        attempt_limit=None,
        schedule=DEFAULT_SCHEDULE,
        now=NOW,
        rng=random.Random(1),
    )
    assert first.status == "retrying"
    assert first.attempt_limit == 4
    assert first.next_attempt_at is not None
    assert first.next_attempt_at - NOW <= timedelta(seconds=6)
    second = decide(
        Observed(503, None),
        attempt_number=4,
        attempt_limit=first.attempt_limit,
        schedule=DEFAULT_SCHEDULE,
        now=NOW,
    )
    assert second.status == "dead"


def test_timeouts_and_429_wait_at_least_a_minute() -> None:
    for observed in (Observed(429, None), Observed(None, "timeout")):
        verdict = decide(
            observed, attempt_number=1, attempt_limit=None, schedule=DEFAULT_SCHEDULE, now=NOW
        )
        assert verdict.next_attempt_at is not None
        assert verdict.next_attempt_at - NOW >= timedelta(seconds=60)


def test_retry_after_forms() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:02:00 GMT", NOW) == 120.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_purged_body_is_dead_at_once() -> None:
    verdict = decide(
        Observed(None, "body_purged"),
        attempt_number=1,
        attempt_limit=None,
        schedule=DEFAULT_SCHEDULE,
        now=NOW,
    )
    assert verdict.status == "dead"
