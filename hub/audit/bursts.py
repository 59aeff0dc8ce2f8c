"""Audit bursts of failed authentication, not each failure (that would be a DoS on the log).

The runtime's ``AuthFailureCounter`` (``hub/security/bursts.py``) counts failures per
process, credential kind and source address in fixed windows; the failure that
reaches the threshold in a window writes one audit row here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.audit.service import record

if TYPE_CHECKING:
    from hub.runtime import Runtime


async def note_auth_failure(rt: Runtime, kind: str, source: str) -> None:
    now = rt.clock.now()
    count = rt.auth_failures.note(kind, source, now)
    if count != rt.auth_failures.threshold:
        return
    async with rt.db.transaction() as session:
        record(
            session,
            at=now,
            actor=f"anonymous:{source}",
            action="auth.failure_burst",
            outcome="denied",
            details={
                "kind": kind,
                "failures": count,
                "window_seconds": rt.auth_failures.window.total_seconds(),
            },
        )
