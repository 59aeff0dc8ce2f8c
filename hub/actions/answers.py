"""Stored answers this process has seen, kept in memory for fast replays.

A completed idempotency record never changes until its window ends (only expiry
frees the key), so a copy is exact until ``expires_at``: a retrying client is
answered without a database round trip. Bounded (LRU); large answers are not kept.
The database stays the arbiter for everything that is not a completed answer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from hub.actions.records import Replay

MAX_ENTRIES = 10_000
MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class _Entry:
    fingerprint: str
    replay: Replay


class AnswerCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._max = max_entries

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, integration_id: str, key: str, fingerprint: str, replay: Replay) -> None:
        if len(replay.body) > MAX_BODY_BYTES:
            return
        slot = (integration_id, key)
        self._entries[slot] = _Entry(fingerprint, replay)
        self._entries.move_to_end(slot)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def get(self, integration_id: str, key: str, now: datetime) -> tuple[str, Replay] | None:
        """(fingerprint, stored answer) while the record's window lasts."""
        slot = (integration_id, key)
        entry = self._entries.get(slot)
        if entry is None:
            return None
        if entry.replay.expires_at <= now:
            del self._entries[slot]
            return None
        self._entries.move_to_end(slot)
        return entry.fingerprint, entry.replay
