"""Wire types of the delivery admin API (and ``hub dlq``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from hub.web.patterns import HOST_NAME

Status = Literal["pending", "retrying", "delivered", "dead", "cancelled"]
Id = Annotated[str, Meta(min_length=1, max_length=40)]


class DeliveryFilter(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Every field narrows; ``since``/``until`` bound the delivery's creation time."""

    status: Status | None = None
    tenant_id: Id | None = None
    integration_id: Id | None = None
    subscription_id: Id | None = None
    event_type: Annotated[str, Meta(max_length=80)] | None = None
    error_class: Annotated[str, Meta(max_length=40)] | None = None
    # The subscription's target host (any scheme and port), e.g. ``hooks.zapier.com``.
    target_host: Annotated[str, Meta(pattern=HOST_NAME, max_length=253)] | None = None
    since: datetime | None = None
    until: datetime | None = None


class DeliveryView(msgspec.Struct):
    id: str  # also the ``webhook-id`` the receiver sees, on every try and replay
    tenant_id: str
    integration_id: str
    subscription_id: str
    event_id: str
    event_type: str
    sandbox: bool
    status: str
    attempt_count: int
    replay_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error_class: str | None
    created_at: datetime
    event_received_at: datetime
    delivered_at: datetime | None


class AttemptView(msgspec.Struct):
    number: int
    replay: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error_class: str | None
    response_headers: dict[str, Any]
    response_excerpt: str | None


class DeliveryDetail(DeliveryView):
    attempts: list[AttemptView] = []


class ReplayRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Either ``ids`` or ``filter`` (dead deliveries only)."""

    ids: Annotated[list[Id], Meta(min_length=1, max_length=1000)] | None = None
    filter: DeliveryFilter | None = None


# The document states the rule the service checks (``replay._validate``): ids, or a
# filter (of dead deliveries), exactly one of them; ``null`` counts as absent.
ReplayRequestDoc = Annotated[
    dict[str, Any],
    Meta(
        title="ReplayRequest",
        description=ReplayRequest.__doc__,
        extra_json_schema={
            "oneOf": [
                {
                    "required": ["ids"],
                    "additionalProperties": False,
                    "properties": {
                        "ids": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1, "maxLength": 40},
                            "minItems": 1,
                            "maxItems": 1000,
                        },
                        "filter": {"type": "null"},
                    },
                },
                {
                    "required": ["filter"],
                    "additionalProperties": False,
                    "properties": {
                        "ids": {"type": "null"},
                        "filter": {"$ref": "#/components/schemas/ReplayFilter"},
                    },
                },
            ]
        },
    ),
]


class ReplayFilter(DeliveryFilter, forbid_unknown_fields=True, omit_defaults=True):
    """A replay's filter: only dead deliveries are replayed."""

    status: Literal["dead"] | None = None


class ReplayRefusal(msgspec.Struct):
    id: str
    reason: Literal["not_found", "not_dead", "subscription_deleted", "body_purged"]


class ReplayResult(msgspec.Struct):
    queued: int
    refused_count: int
    refused: list[ReplayRefusal]  # at most the first 1,000


class BreakerView(msgspec.Struct):
    state: Literal["closed", "open", "half_open"]
    open_until: datetime | None
    cooldown_seconds: float
    consecutive_failures: int
    window_attempts: int
    window_failures: int


class LaneCounts(msgspec.Struct):
    pending: int
    retrying: int
    dead: int


class SubscriptionHealth(msgspec.Struct):
    subscription_id: str
    status: str
    rate_per_second: float
    failing_since: datetime | None
    disabled_reason: str | None
    breaker: BreakerView
    deliveries: LaneCounts


class SubscriptionDeliveryPatch(msgspec.Struct, forbid_unknown_fields=True):
    rate_per_second: Annotated[float, Meta(gt=0, le=10_000)]


class SubscriptionDeliverySettings(msgspec.Struct):
    subscription_id: str
    rate_per_second: float
