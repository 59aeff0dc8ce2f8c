"""What an attempt's answer means for the delivery: done, gone, retried or dead.

Pure functions of the observed answer, the attempt number and the schedule, so
the rules are tested for every input without a network.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

# Seconds to wait after attempt 1, 2, ...: 8 attempts spread over ~27.5 h.
DEFAULT_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2
# A receiver that said "slow down" (429) or did not answer in time gets at least this.
SLOWDOWN_FLOOR_SECONDS = 60.0

RETRIABLE_STATUS = frozenset({408, 425, 429})
# Transport failures: the request may not have arrived, so it is always retried.
TIMEOUT_ERRORS = frozenset({"timeout", "connect_timeout"})

# Nothing can ever be sent (the body was purged after retention): dead at once.
UNSENDABLE_ERRORS = frozenset({"body_purged"})

Kind = Literal["delivered", "gone", "retriable", "permanent", "unsendable"]


@dataclass(frozen=True, slots=True)
class Observed:
    """What one HTTP attempt saw (no request sent: ``status_code`` None)."""

    status_code: int | None
    error_class: str | None
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Literal["delivered", "cancelled", "retrying", "dead"]
    next_attempt_at: datetime | None
    attempt_limit: int | None
    error_class: str | None


def error_class_of(observed: Observed) -> str | None:
    """The filterable failure class: transport errors by name, HTTP failures by code."""
    if observed.error_class is not None:
        return observed.error_class
    code = observed.status_code
    if code is None or 200 <= code < 300:
        return None
    return f"http_{code}"


def kind_of(observed: Observed) -> Kind:
    code = observed.status_code
    if code is None:
        # Transport errors are retriable; a send refused before it started
        # (unusable target) follows the "other 4xx" rule.
        if observed.error_class in UNSENDABLE_ERRORS:
            return "unsendable"
        return "permanent" if observed.error_class == "invalid_target" else "retriable"
    if 200 <= code < 300:
        return "delivered"
    if code == 410:
        return "gone"
    if code in RETRIABLE_STATUS or code >= 500:
        return "retriable"
    # Other 4xx, and 1xx/3xx (redirects are never followed): the receiver refused
    # this request; one more try in case it was a transient misconfiguration.
    return "permanent"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """RFC 9110 ``Retry-After``: delay-seconds or an HTTP-date; None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def retry_delay(
    scheduled: float,
    *,
    slowdown: bool,
    retry_after: float | None,
    rng: random.Random | None = None,
) -> float:
    """Jittered schedule delay, floored after a slowdown, then ``Retry-After`` clamped in."""
    jitter = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    delay = scheduled * jitter
    if slowdown:
        delay = max(delay, SLOWDOWN_FLOOR_SECONDS)
    if retry_after is not None:
        # Honour the receiver's wish, but neither sooner than our own schedule nor
        # later than twice it (a huge Retry-After must not park a delivery forever).
        delay = min(max(retry_after, delay), 2 * delay)
    return delay


def decide(
    observed: Observed,
    *,
    attempt_number: int,
    attempt_limit: int | None,
    schedule: Sequence[int],
    now: datetime,
    rng: random.Random | None = None,
) -> Verdict:
    """The delivery's next state after attempt ``attempt_number`` (1-based) saw ``observed``."""
    error = error_class_of(observed)
    kind = kind_of(observed)
    if kind == "delivered":
        return Verdict("delivered", None, attempt_limit, None)
    if kind == "gone":
        return Verdict("cancelled", None, attempt_limit, error)
    limit = len(schedule) + 1
    if attempt_limit is not None:
        limit = min(limit, attempt_limit)
    if kind == "permanent":
        limit = min(limit, attempt_number + 1)
    if kind == "unsendable" or attempt_number >= limit or not schedule:
        return Verdict("dead", None, limit, error)
    if kind == "permanent":
        scheduled = float(schedule[0])
    else:
        scheduled = float(schedule[min(attempt_number, len(schedule)) - 1])
    slowdown = observed.status_code == 429 or observed.error_class in TIMEOUT_ERRORS
    delay = retry_delay(
        scheduled,
        slowdown=slowdown,
        retry_after=parse_retry_after(observed.retry_after, now),
        rng=rng,
    )
    limit_to_store = limit if limit != len(schedule) + 1 else attempt_limit
    return Verdict("retrying", now + timedelta(seconds=delay), limit_to_store, error)
