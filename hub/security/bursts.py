"""Audit bursts of failed authentication, not each failure (that would be a DoS on the log).

Counted per process and source address in a fixed window; the first failure
past the threshold in a window writes one audit row.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hub.audit.service import record

if TYPE_CHECKING:
    from hub.runtime import Runtime

BURST_THRESHOLD = 10
WINDOW_SECONDS = 60.0

_counts: dict[tuple[str, str], tuple[float, int]] = {}


async def note_auth_failure(rt: Runtime, kind: str, source: str) -> None:
    now = time.monotonic()
    key = (kind, source)
    started, count = _counts.get(key, (now, 0))
    if now - started > WINDOW_SECONDS:
        started, count = now, 0
    count += 1
    _counts[key] = (started, count)
    if len(_counts) > 10_000:  # bound memory under a spray from many addresses
        _counts.clear()
    if count == BURST_THRESHOLD:
        async with rt.db.transaction() as session:
            record(
                session,
                at=rt.clock.now(),
                actor=f"anonymous:{source}",
                action="auth.failure_burst",
                outcome="denied",
                details={"kind": kind, "failures": count, "window_seconds": WINDOW_SECONDS},
            )
