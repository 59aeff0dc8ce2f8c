"""Counting failed authentication, so that a burst is audited and not each failure
(that would be a DoS on the log).

Counted per process, credential kind and source address in fixed windows of the
runtime's clock; the failure that reaches the threshold in a window writes one
audit row (``hub/audit/bursts.py``). Per process is enough: a burst spread over many
API replicas is still visible in the ``hub_auth_failures_total`` metric.
"""

from __future__ import annotations

from datetime import datetime, timedelta

BURST_THRESHOLD = 10
WINDOW_SECONDS = 60.0
MAX_TRACKED_SOURCES = 10_000


class AuthFailureCounter:
    """Failures per (kind, source) in the current window; lives on the ``Runtime``."""

    def __init__(
        self,
        threshold: int = BURST_THRESHOLD,
        window_seconds: float = WINDOW_SECONDS,
        max_sources: int = MAX_TRACKED_SOURCES,
    ) -> None:
        self.threshold = threshold
        self.window = timedelta(seconds=window_seconds)
        self.max_sources = max_sources
        self._counts: dict[tuple[str, str], tuple[datetime, int]] = {}

    def note(self, kind: str, source: str, now: datetime) -> int:
        """Count one failure; returns the count in the current window."""
        key = (kind, source)
        started, count = self._counts.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        if key not in self._counts and len(self._counts) >= self.max_sources:
            # Bound memory under a spray from many addresses.
            self._counts.clear()
        count += 1
        self._counts[key] = (started, count)
        return count
