"""Wire types of the events API: publishing, per-item results, samples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

MAX_BATCH = 500
MAX_BODY_BYTES = 1024 * 1024
# Each event may nest MAX_DEPTH (hub/web/input_rules.py) levels, judged per item; a
# body deeper than this cannot be split into items safely and is refused whole.
MAX_BODY_DEPTH = 256

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


_PER_ITEM = (
    "Each event is judged on its own: one that is not a valid `EventDoc` (or of an "
    "unknown or reserved type) is listed in the answer's `rejected` with its index and "
    "code, and the others are stored."
)
EventItem = Annotated[Any, Meta(description="An `EventDoc`. " + _PER_ITEM)]


class EventBatchDoc(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[list[EventItem], Meta(min_length=1, max_length=MAX_BATCH)]


# What POST /v1/events accepts, as the document states it: a batch, or one event on its
# own (any object without ``events``, judged as the batch's items are). Items are
# described as EventDoc but not constrained, because a bad one is answered per item.
PublishBodyDoc = Annotated[
    dict[str, Any],
    Meta(
        title="PublishBody",
        description='`{"events": [...]}` (1 to 500 events) or one event object. ' + _PER_ITEM,
        extra_json_schema={
            "oneOf": [
                {"$ref": "#/components/schemas/EventBatchDoc"},
                {
                    "type": "object",
                    "not": {"required": ["events"]},
                    "description": "One event: an `EventDoc`, judged as a batch's item is.",
                },
            ]
        },
    ),
]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
