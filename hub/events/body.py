"""The one function that turns an event into what a subscriber receives.

Deliveries (fan-out) and samples (Zapier ``performList``, Make sample) both call
``delivered_body``, so a zap mapped against a sample sees the same shape, keys
and masks as the deliveries that follow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from hub.events.schemas import DeliveredBody
from hub.sanitize.ops import Pseudonymizer
from hub.sanitize.registry import CompiledPolicy

_encoder = msgspec.json.Encoder()


def delivered_body(
    policy: CompiledPolicy,
    pseudonymizer: Pseudonymizer,
    *,
    event_id: str,
    event_type: str,
    occurred_at: datetime,
    data: Any,
    sandbox: bool,
) -> bytes:
    """``{"id","type","occurred_at","data"}`` (+ ``"sandbox": true``), sanitized.

    ``data`` is the event's data Struct (``typed_data`` turns stored JSON into one).
    """
    body = DeliveredBody(
        id=event_id,
        type=event_type,
        occurred_at=occurred_at.astimezone(UTC),
        data=policy.sanitize(data, pseudonymizer),
        sandbox=sandbox,
    )
    return _encoder.encode(body)


def typed_data(policy: CompiledPolicy, stored: Any) -> Any | None:
    """Stored JSON data back into its Struct; None if it no longer fits (skip it)."""
    try:
        return msgspec.convert(stored, policy.data_type)
    except msgspec.ValidationError:
        return None
