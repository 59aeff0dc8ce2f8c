"""Wire types of the events API: publishing, per-item results, samples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

MAX_BATCH = 500
MAX_BODY_BYTES = 1024 * 1024

ProducerId = Annotated[str, Meta(min_length=1, max_length=255)]
TypeName = Annotated[str, Meta(min_length=1, max_length=80)]
Timestamp = Annotated[datetime, Meta(tz=True)]


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """One published event; ``data`` stays raw until its type's Struct decodes it."""

    id: ProducerId
    type: TypeName
    data: msgspec.Raw
    occurred_at: Timestamp | None = None


class Rejected(msgspec.Struct):
    index: int
    code: str  # UNKNOWN_EVENT_TYPE | VALIDATION_FAILED
    detail: str


class PublishResult(msgspec.Struct):
    accepted: int
    duplicates: int
    rejected: list[Rejected]


class DeliveredBody(msgspec.Struct, omit_defaults=True):
    """Exactly what a subscriber receives (Standard Webhooks body)."""

    id: str
    type: str
    occurred_at: datetime
    data: dict[str, Any]
    sandbox: bool = False


# -- for the OpenAPI document only (the controller decodes items one by one) ---------


class EventDoc(msgspec.Struct):
    id: ProducerId
    type: TypeName
    data: dict[str, Any]
    occurred_at: Timestamp | None = None


class EventBatchDoc(msgspec.Struct):
    events: Annotated[list[EventDoc], Meta(min_length=1, max_length=MAX_BATCH)]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
