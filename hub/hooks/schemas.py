"""Wire types of REST-hook subscriptions (integration API and admin API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from hub.events.catalog import EVENT_TYPES

TypeName = Annotated[
    str, Meta(min_length=1, max_length=80, extra_json_schema={"enum": sorted(EVENT_TYPES)})
]
# An http(s) URL; the SSRF guard then judges its host (422 TARGET_NOT_ALLOWED).
TargetUrl = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2048,
        extra_json_schema={"format": "uri", "pattern": "^https?://"},
    ),
]
Status = Literal["active", "paused", "disabled", "deleted"]


class HookCreate(msgspec.Struct, forbid_unknown_fields=True):
    event: TypeName
    target_url: TargetUrl


class HookView(msgspec.Struct):
    id: str
    event: str
    target_url: str
    status: str
    created_at: datetime


class HookCreated(msgspec.Struct):
    """``secret`` verifies the ``webhook-signature`` header of every delivery."""

    id: str
    event: str
    target_url: str
    status: str
    secret: str
    created_at: datetime


class SecretView(msgspec.Struct):
    id: str
    status: str  # active | expiring | expired
    created_at: datetime
    expires_at: datetime | None


class SubscriptionView(msgspec.Struct):
    id: str
    tenant_id: str
    integration_id: str
    event_type: str
    target_url: str
    status: str
    sandbox: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    secrets: list[SecretView]


class SecretRotate(msgspec.Struct, forbid_unknown_fields=True):
    # How long the previous secret keeps signing alongside the new one.
    grace_seconds: Annotated[int, Meta(ge=0, le=7 * 24 * 3600)] = 24 * 3600


class SecretRotated(msgspec.Struct):
    secret_id: str
    secret: str
    previous_secrets_expire_at: datetime | None
