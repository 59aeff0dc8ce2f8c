"""Sanitizer metrics, recorded per batch (a counter per event would cost more than
the sanitizing). Field counts are per policy field: a masked list counts once."""

from __future__ import annotations

from prometheus_client import Counter

from hub.sanitize.registry import CompiledPolicy

SANITIZED = Counter("hub_sanitized_total", "Event data sanitized", ["event_type"])
SANITIZE_SECONDS = Counter(
    "hub_sanitize_seconds_total",
    "Time spent sanitizing and encoding bodies (mean = rate of this / rate of hub_sanitized_total)",
    ["event_type"],
)
SANITIZER_FIELDS = Counter(
    "hub_sanitizer_fields_total",
    "Fields the sanitizer masked (mask, hash, truncate) or dropped",
    ["event_type", "action"],
)


class SanitizeTally:
    """Accumulates one batch's sanitizations; ``flush`` writes the counters once."""

    def __init__(self) -> None:
        self._rows: dict[str, list[float]] = {}

    def add(self, policy: CompiledPolicy, seconds: float) -> None:
        row = self._rows.setdefault(policy.event_type, [0.0, 0.0, 0.0, 0.0])
        row[0] += 1
        row[1] += seconds
        row[2] += policy.masked_fields
        row[3] += policy.dropped_fields

    def flush(self) -> None:
        for event_type, (count, seconds, masked, dropped) in self._rows.items():
            SANITIZED.labels(event_type).inc(count)
            SANITIZE_SECONDS.labels(event_type).inc(seconds)
            SANITIZER_FIELDS.labels(event_type, "masked").inc(masked)
            SANITIZER_FIELDS.labels(event_type, "dropped").inc(dropped)
        self._rows.clear()
