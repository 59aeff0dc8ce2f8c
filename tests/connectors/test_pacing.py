"""The sending window: when a message may leave, and when a deferred one will."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.connectors.pacing import SendWindow, check_window, next_opening
from hub.web.errors import ProblemError

SP = ZoneInfo("America/Sao_Paulo")  # UTC-3, no daylight saving since 2019
WEEKDAYS = SendWindow(
    days=[1, 2, 3, 4, 5], start="09:00", end="18:00", time_zone="America/Sao_Paulo"
)


def sp(*args: int) -> datetime:
    return datetime(*args, tzinfo=SP).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        (sp(2026, 12, 2, 10, 0), None),  # Wednesday, inside
        (sp(2026, 12, 2, 9, 0), None),  # the opening minute is inside
        (sp(2026, 12, 2, 8, 59), sp(2026, 12, 2, 9, 0)),  # before: today's opening
        (sp(2026, 12, 2, 18, 0), sp(2026, 12, 3, 9, 0)),  # the end is outside: tomorrow
        (sp(2026, 12, 4, 19, 30), sp(2026, 12, 7, 9, 0)),  # Friday evening: Monday
        (sp(2026, 12, 5, 12, 0), sp(2026, 12, 7, 9, 0)),  # Saturday: Monday
    ],
)
def test_next_opening(now: datetime, opens: datetime | None) -> None:
    assert next_opening(now, WEEKDAYS) == opens


def test_a_window_inside_a_daylight_saving_gap_opens_when_it_next_exists() -> None:
    # Sao Paulo skipped 2008-10-19 00:00-01:00 (clocks jumped to 01:00, UTC-2).
    window = SendWindow(days=[1, 7], start="00:00", end="01:00", time_zone="America/Sao_Paulo")
    opens = next_opening(datetime(2008, 10, 15, tzinfo=UTC), window)
    assert opens == datetime(2008, 10, 20, 2, 0, tzinfo=UTC)  # Monday 00:00, UTC-2
    assert next_opening(opens, window) is None


def test_no_window_means_always_open() -> None:
    assert next_opening(datetime(2026, 12, 5, 3, 0, tzinfo=UTC), None) is None


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.sets(st.integers(1, 7), min_size=1),
    st.integers(0, 22),
    st.sampled_from(["America/Sao_Paulo", "Europe/Lisbon", "America/New_York", "UTC"]),
)
def test_a_deferred_message_leaves_inside_the_window_and_never_later_than_a_week(
    now: datetime, days: set[int], start_hour: int, zone: str
) -> None:
    window = SendWindow(
        days=sorted(days),
        start=f"{start_hour:02d}:00",
        end=f"{start_hour + 1:02d}:00",
        time_zone=zone,
    )
    opens = next_opening(now, window)
    if opens is None:
        local = now.astimezone(ZoneInfo(zone))
        assert local.isoweekday() in days
        assert start_hour <= local.hour < start_hour + 1
    else:
        # Within a week, or two when the window fell into a daylight-saving gap.
        assert now < opens <= now + timedelta(days=15)
        assert next_opening(opens, window) is None  # it is open when it opens


def test_a_window_must_be_usable() -> None:
    with pytest.raises(ProblemError) as bad:
        check_window(SendWindow(start="18:00", end="09:00", time_zone="Mars/Olympus"), "$.w")
    assert sorted(e.path for e in bad.value.errors) == ["$.w.end", "$.w.time_zone"]
