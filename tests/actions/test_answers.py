"""The in-process copy of stored answers: exact until the window ends, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.actions.answers import MAX_BODY_BYTES, AnswerCache
from hub.actions.records import Replay

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def answer(body: bytes = b"{}", expires_in: float = 60) -> Replay:
    return Replay(200, "application/json", body, "exe_1", NOW + timedelta(seconds=expires_in))


def test_answers_are_kept_per_integration_until_the_window_ends() -> None:
    cache = AnswerCache()
    cache.put("int_a", "k", "fp", answer())
    assert cache.get("int_a", "k", NOW) == ("fp", answer())
    assert cache.get("int_b", "k", NOW) is None
    assert cache.get("int_a", "k", NOW + timedelta(seconds=60)) is None
    assert len(cache) == 0


def test_bounded_least_recently_used_first_and_no_large_bodies() -> None:
    cache = AnswerCache(max_entries=2)
    cache.put("i", "a", "fp", answer())
    cache.put("i", "b", "fp", answer())
    assert cache.get("i", "a", NOW) is not None  # a is now the most recent
    cache.put("i", "c", "fp", answer())
    assert cache.get("i", "b", NOW) is None
    assert cache.get("i", "a", NOW) is not None
    cache.put("i", "big", "fp", answer(b"x" * (MAX_BODY_BYTES + 1)))
    assert cache.get("i", "big", NOW) is None
