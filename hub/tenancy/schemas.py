"""Wire types of tenants, integrations and keys (admin API and ``/v1/me``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from hub.tenancy.scopes import SCOPE_PATTERN
from hub.web.patterns import VISIBLE

Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=VISIBLE)]
Kind = Literal["zapier", "make", "partner", "source"]
Mode = Literal["live", "sandbox"]
Status = Literal["active", "disabled"]
Count = Annotated[int, Meta(ge=0, le=10_000_000)]
Seconds = Annotated[int, Meta(ge=1, le=7 * 24 * 3600)]
# The service checks scopes (to name each unknown one); the document states the rule.
Scope = Annotated[str, Meta(extra_json_schema={"pattern": SCOPE_PATTERN})]
Scopes = Annotated[list[Scope], Meta(max_length=64)]
# An http(s) URL; the SSRF guard then judges its host (422 TARGET_NOT_ALLOWED).
UpstreamUrl = Annotated[
    str, Meta(max_length=2048, extra_json_schema={"format": "uri", "pattern": "^https?://"})
]


class Limits(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Rate limits and quotas; an absent field means the default for the kind."""

    actions_per_minute: Count | None = None
    actions_per_day: Count | None = None
    deliveries_per_minute: Count | None = None


class TenantCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    limits: Limits | UnsetType = UNSET


class TenantPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    upstream_url: UpstreamUrl | UnsetType | None = UNSET
    upstream_secret: Annotated[str, Meta(min_length=16, max_length=512)] | UnsetType | None = UNSET
    limits: Limits | UnsetType = UNSET
    retry_schedule: (
        Annotated[list[Seconds], Meta(min_length=1, max_length=20)] | UnsetType | None
    ) = UNSET


class TenantView(msgspec.Struct):
    id: str
    name: str
    status: str
    upstream_url: str | None
    upstream_secret_set: bool
    limits: Limits
    retry_schedule: list[int] | None
    created_at: datetime
    updated_at: datetime


class IntegrationCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: Kind
    mode: Mode = "live"
    scopes: Scopes = []
    limits: Limits | UnsetType = UNSET


class IntegrationPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    scopes: Scopes | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    limits: Limits | UnsetType = UNSET
    # Per event type: a policy that may only narrow the type's policy (docs/events.md).
    policy_overrides: dict[str, dict[str, str]] | UnsetType = UNSET


class KeyView(msgspec.Struct):
    key_id: str
    status: str  # active | expiring | expired | revoked
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class IntegrationView(msgspec.Struct):
    id: str
    tenant_id: str
    name: str
    kind: str
    mode: str
    scopes: list[str]
    status: str
    limits: Limits
    policy_overrides: dict[str, dict[str, str]]
    created_at: datetime
    updated_at: datetime
    keys: list[KeyView]


class IntegrationCreated(msgspec.Struct):
    """The integration and its first key; ``api_key`` is shown only here."""

    id: str
    tenant_id: str
    name: str
    kind: str
    mode: str
    scopes: list[str]
    status: str
    limits: Limits
    created_at: datetime
    api_key: str
    key_id: str


class RotateRequest(msgspec.Struct, forbid_unknown_fields=True):
    grace_seconds: Annotated[int, Meta(ge=0, le=7 * 24 * 3600)] = 24 * 3600


class RotateResult(msgspec.Struct):
    api_key: str
    key_id: str
    previous_key_expires_at: datetime | None


class RevokeRequest(msgspec.Struct, forbid_unknown_fields=True):
    """One key by ``key_id``; without it, every key of the integration."""

    key_id: Annotated[str, Meta(min_length=1, max_length=40)] | None = None


class RevokeResult(msgspec.Struct):
    revoked: list[str]


class Me(msgspec.Struct):
    integration_id: str
    name: str
    kind: str
    mode: str
    scopes: list[str]
    status: str
    tenant_id: str
    tenant_name: str
    key_id: str
