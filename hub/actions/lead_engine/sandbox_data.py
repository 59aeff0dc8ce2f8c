"""Sandbox helpers: synthetic ids from the Idempotency-Key, and event data in the catalog's shapes.

The sandbox's events follow the event catalog (``hub/events/data.py``); the sandbox
handler drops whatever a type does not accept, so these shapes are best effort.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from hub.actions.handlers import ActionCall


def synthetic_id(prefix: str, call: ActionCall) -> str:
    """Sandbox ids: the same (integration, Idempotency-Key) always yields the same id."""
    digest = hashlib.sha256(f"{call.integration_id}\n{call.idempotency_key}".encode())
    return f"{prefix}_sbx_{digest.hexdigest()[:24]}"


def timestamp(call: ActionCall) -> str:
    stamp: str = msgspec.to_builtins(call.started_at)
    return stamp


def contact(name: str | None, emails: list[str], phones: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "emails": [{"address": e, "primary": i == 0} for i, e in enumerate(emails)],
        "phones": [{"number": p, "primary": i == 0} for i, p in enumerate(phones)],
    }


def lead_ref(lead_id: str | None) -> dict[str, Any] | None:
    return {"lead_id": lead_id} if lead_id else None
