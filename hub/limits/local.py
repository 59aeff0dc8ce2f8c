"""The same all-or-nothing GCRA, in this process's memory: the fallback while Redis is down.

Each process enforces every limit on its own, so with N API processes a client may
get up to N times its budget until Redis is back. That is the documented price of
keeping actions available; Postgres still guarantees each key runs once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.limits.gcra import Decision, Limit
from hub.limits.multi import EPSILON_MS, decision, now_ms, zero_limit_decisions

# Bound memory: past this many buckets, forget the ones that are full again.
MAX_BUCKETS = 50_000


class LocalLimiter:
    def __init__(self) -> None:
        self._tats: dict[str, float] = {}  # key -> theoretical arrival time (ms)

    def __len__(self) -> int:
        return len(self._tats)

    def hit(
        self, buckets: Sequence[tuple[str, Limit]], now_at: datetime, cost: int = 1
    ) -> list[Decision]:
        zero = zero_limit_decisions(buckets)
        if zero is not None:
            return zero
        now = now_ms(now_at)
        if len(self._tats) > MAX_BUCKETS:
            self._tats = {k: t for k, t in self._tats.items() if t > now}
        results: list[tuple[bool, float, float]] = []
        new_tats: list[float] = []
        for key, limit in buckets:
            tat = max(self._tats.get(key, now), now)
            new_tat = tat + limit.emission_ms * cost
            diff = new_tat - now
            if diff > limit.tolerance_ms + EPSILON_MS:
                results.append((False, diff - limit.tolerance_ms, tat - now))
            else:
                results.append((True, 0.0, diff))
            new_tats.append(new_tat)
        if all(allowed for allowed, _, _ in results):
            for (key, _), new_tat in zip(buckets, new_tats, strict=True):
                self._tats[key] = new_tat
        return [
            decision(allowed, limit, a, b)
            for (allowed, a, b), (_, limit) in zip(results, buckets, strict=True)
        ]
