"""Pacing a channel's sends: a weekly sending window in the tenant's time zone, and a
per-minute cap shared by every process (Redis).

A send outside the window is deferred to the window's next opening (the action
answers ``scheduled``; ``hub/connectors/sends.py`` keeps it; the workers send it). Over
the cap the action answers 429 ``RATE_LIMITED`` with ``Retry-After``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from hub.actions.handlers import ActionFailed
from hub.limits.gcra import Limit, LimiterUnavailable, RateLimiter
from hub.runtime import Runtime
from hub.web.errors import FieldError, ProblemError

Day = Annotated[int, Meta(ge=1, le=7, description="ISO weekday: 1 is Monday, 7 Sunday")]
ClockTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]


class SendWindow(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """When messages may leave: outside it they wait for its next opening."""

    days: Annotated[list[Day], Meta(min_length=1, max_length=7)] = msgspec.field(
        default_factory=lambda: [1, 2, 3, 4, 5]
    )
    start: ClockTime = "09:00"
    end: ClockTime = "18:00"
    time_zone: Annotated[str, Meta(max_length=64, examples=["America/Sao_Paulo"])] = (
        "America/Sao_Paulo"
    )


class Pacing(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    window: SendWindow | None = None
    per_minute: Annotated[int, Meta(ge=1, le=10_000)] | None = None


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def check_window(window: SendWindow | None, path: str) -> None:
    """What the Struct cannot say: a known time zone, start before end."""
    if window is None:
        return
    errors = []
    try:
        ZoneInfo(window.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError(path=f"{path}.time_zone", message="not an IANA time zone"))
    if _clock(window.start) >= _clock(window.end):
        errors.append(FieldError(path=f"{path}.end", message="must be after start"))
    if errors:
        raise ProblemError("VALIDATION_FAILED", "the sending window is not usable", errors=errors)


def next_opening(now: datetime, window: SendWindow | None) -> datetime | None:
    """None when ``now`` is inside the window (or there is none), else when it opens."""
    if window is None:
        return None
    zone = ZoneInfo(window.time_zone)
    local = now.astimezone(zone)
    start, end = _clock(window.start), _clock(window.end)
    days = set(window.days)
    if local.isoweekday() in days and start <= local.time() < end:
        return None
    # Two weeks: a window that falls wholly into a daylight-saving gap opens a week later.
    for ahead in range(15):
        day = (local + timedelta(days=ahead)).date()
        # Through UTC and back: a start inside a daylight-saving gap (a local time that
        # does not exist that day) becomes the instant the clocks jumped to.
        opening = datetime.combine(day, start, tzinfo=zone).astimezone(UTC).astimezone(zone)
        if opening > local and opening.isoweekday() in days and start <= opening.time() < end:
            return opening.astimezone(now.tzinfo)
    raise AssertionError("a window with at least one day opens within two weeks")


async def charge(rt: Runtime, key: str, per_minute: int | None) -> None:
    """One send against the cap, or 429 ``RATE_LIMITED`` (retriable, key released)."""
    if per_minute is None:
        return
    limiter = RateLimiter(rt.redis)
    try:
        decision = await limiter.hit(key, Limit(per_minute, 60.0), rt.clock.now())
    except LimiterUnavailable:
        return  # Redis is down: the provider's own limits still hold; do not block sends
    if not decision.allowed:
        raise ActionFailed(
            "RATE_LIMITED",
            f"this connector sends at most {per_minute} messages a minute",
            retry_after=int(decision.retry_after_header),
        )
