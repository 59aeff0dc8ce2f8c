"""Rows to wire views (one place, so the admin API and the CLI answer alike)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from hub.tenancy.models import ApiKey, Integration, Tenant
from hub.tenancy.schemas import IntegrationView, KeyView, Limits, TenantView


def tenant_view(t: Tenant) -> TenantView:
    return TenantView(
        id=t.id,
        name=t.name,
        status=t.status,
        upstream_url=t.upstream_url,
        upstream_secret_set=t.upstream_secret_encrypted is not None,
        limits=msgspec.convert(t.limits or {}, Limits),
        retry_schedule=t.retry_schedule,
        created_at=t.created_at,
        updated_at=t.updated_at,
    )


def key_status(key: ApiKey, now: datetime) -> str:
    if key.status == "revoked":
        return "revoked"
    if key.expires_at is not None:
        return "expired" if key.expires_at <= now else "expiring"
    return "active"


def key_view(key: ApiKey, now: datetime) -> KeyView:
    return KeyView(
        key_id=key.id,
        status=key_status(key, now),
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def integration_view(i: Integration, keys: list[ApiKey], now: datetime) -> IntegrationView:
    return IntegrationView(
        id=i.id,
        tenant_id=i.tenant_id,
        name=i.name,
        kind=i.kind,
        mode=i.mode,
        scopes=list(i.scopes),
        status=i.status,
        limits=msgspec.convert(i.limits or {}, Limits),
        policy_overrides=dict(i.policy_overrides or {}),
        created_at=i.created_at,
        updated_at=i.updated_at,
        keys=[key_view(k, now) for k in sorted(keys, key=lambda k: k.created_at)],
    )
