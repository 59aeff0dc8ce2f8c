"""Tenants, integrations and key lifecycle: the rules behind the admin API and CLI.

Every change is audited in the same transaction as the change itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
from msgspec import UNSET
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin.auth import AdminPrincipal
from hub.audit.service import record
from hub.ids import new_id
from hub.runtime import Runtime
from hub.sanitize.overrides import validate_overrides
from hub.security import targets
from hub.tenancy.keys import new_api_key
from hub.tenancy.models import ApiKey, Integration, Tenant
from hub.tenancy.schemas import (
    IntegrationCreate,
    IntegrationCreated,
    IntegrationPatch,
    IntegrationView,
    Limits,
    RevokeRequest,
    RevokeResult,
    RotateRequest,
    RotateResult,
    TenantCreate,
    TenantPatch,
    TenantView,
)
from hub.tenancy.scopes import invalid_scopes
from hub.tenancy.views import integration_view, tenant_view
from hub.web.errors import FieldError, ProblemError


def _limits_dict(limits: Limits) -> dict[str, Any]:
    return msgspec.to_builtins(limits)  # type: ignore[no-any-return]


def _check_scopes(scopes: list[str]) -> None:
    bad = invalid_scopes(scopes)
    if bad:
        raise ProblemError(
            "VALIDATION_FAILED",
            "unknown scope",
            errors=[FieldError(path="$.scopes", message=f"unknown scope {s!r}") for s in bad],
        )


async def _tenant(session: AsyncSession, admin: AdminPrincipal, tenant_id: str) -> Tenant:
    admin.require_tenant(tenant_id)
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise ProblemError("NOT_FOUND", "no such tenant")
    return tenant


async def _integration(
    session: AsyncSession, admin: AdminPrincipal, integration_id: str
) -> Integration:
    integration = await session.get(Integration, integration_id)
    if integration is None or (
        admin.tenant_id is not None and integration.tenant_id != admin.tenant_id
    ):
        raise ProblemError("NOT_FOUND", "no such integration")
    return integration


async def _keys(session: AsyncSession, integration_id: str) -> list[ApiKey]:
    rows = await session.scalars(select(ApiKey).where(ApiKey.integration_id == integration_id))
    return list(rows)


# -- tenants ---------------------------------------------------------------------------


async def create_tenant(rt: Runtime, admin: AdminPrincipal, body: TenantCreate) -> TenantView:
    admin.require_platform("create tenants")
    now = rt.clock.now()
    tenant = Tenant(
        id=new_id("tenant"),
        name=body.name.strip(),
        status="active",
        limits=_limits_dict(body.limits) if body.limits is not UNSET else {},
        retry_schedule=None,
        created_at=now,
        updated_at=now,
    )
    async with rt.db.transaction() as session:
        session.add(tenant)
        record(
            session,
            at=now,
            actor=admin.actor,
            action="tenant.created",
            tenant_id=tenant.id,
            target_type="tenant",
            target_id=tenant.id,
        )
    return tenant_view(tenant)


async def list_tenants(
    rt: Runtime, admin: AdminPrincipal, *, after: str | None = None, limit: int = 1000
) -> list[TenantView]:
    """Oldest first (ids are time-ordered); ``after`` is the last id of the previous page."""
    async with rt.db.session() as session:
        stmt = select(Tenant).order_by(Tenant.id).limit(limit)
        if admin.tenant_id is not None:
            stmt = stmt.where(Tenant.id == admin.tenant_id)
        if after is not None:
            stmt = stmt.where(Tenant.id > after)
        return [tenant_view(t) for t in await session.scalars(stmt)]


async def get_tenant(rt: Runtime, admin: AdminPrincipal, tenant_id: str) -> TenantView:
    async with rt.db.session() as session:
        return tenant_view(await _tenant(session, admin, tenant_id))


async def patch_tenant(
    rt: Runtime, admin: AdminPrincipal, tenant_id: str, body: TenantPatch
) -> TenantView:
    now = rt.clock.now()
    # Another tenant's answer is 404 before any other rule can answer 403 or 422.
    admin.require_tenant(tenant_id)
    if body.status is not UNSET:
        admin.require_platform("change a tenant's status")
    if isinstance(body.upstream_url, str):
        await targets.check_target_url(body.upstream_url, rt.settings, path="$.upstream_url")
    async with rt.db.transaction() as session:
        tenant = await _tenant(session, admin, tenant_id)
        changed: list[str] = []
        if body.name is not UNSET:
            tenant.name = body.name.strip()
            changed.append("name")
        action = "tenant.updated"
        if body.status is not UNSET and body.status != tenant.status:
            tenant.status = body.status
            changed.append("status")
            action = "tenant.disabled" if body.status == "disabled" else "tenant.enabled"
        if body.upstream_url is not UNSET:
            tenant.upstream_url = body.upstream_url
            changed.append("upstream_url")
        if body.upstream_secret is not UNSET:
            tenant.upstream_secret_encrypted = (
                None if body.upstream_secret is None else rt.vault.encrypt(body.upstream_secret)
            )
            changed.append("upstream_secret")
        if body.limits is not UNSET:
            tenant.limits = _limits_dict(body.limits)
            changed.append("limits")
        if body.retry_schedule is not UNSET:
            tenant.retry_schedule = body.retry_schedule
            changed.append("retry_schedule")
        tenant.updated_at = now
        record(
            session,
            at=now,
            actor=admin.actor,
            action=action,
            tenant_id=tenant.id,
            target_type="tenant",
            target_id=tenant.id,
            details={"fields": changed},
        )
    return tenant_view(tenant)


# -- integrations ----------------------------------------------------------------------


async def create_integration(
    rt: Runtime, admin: AdminPrincipal, tenant_id: str, body: IntegrationCreate
) -> IntegrationCreated:
    _check_scopes(body.scopes)
    now = rt.clock.now()
    full_key, key_id, secret = new_api_key()
    async with rt.db.transaction() as session:
        await _tenant(session, admin, tenant_id)
        integration = Integration(
            id=new_id("integration"),
            tenant_id=tenant_id,
            name=body.name.strip(),
            kind=body.kind,
            mode=body.mode,
            scopes=sorted(set(body.scopes)),
            status="active",
            limits=_limits_dict(body.limits) if body.limits is not UNSET else {},
            policy_overrides={},
            created_at=now,
            updated_at=now,
        )
        session.add(integration)
        await session.flush()
        session.add(
            ApiKey(
                id=key_id,
                integration_id=integration.id,
                tenant_id=tenant_id,
                secret_hash=rt.hasher.hash(secret),
                status="active",
                created_at=now,
            )
        )
        for action, target_type, target_id in (
            ("integration.created", "integration", integration.id),
            ("key.issued", "api_key", key_id),
        ):
            record(
                session,
                at=now,
                actor=admin.actor,
                action=action,
                tenant_id=tenant_id,
                integration_id=integration.id,
                target_type=target_type,
                target_id=target_id,
            )
    return IntegrationCreated(
        id=integration.id,
        tenant_id=tenant_id,
        name=integration.name,
        kind=integration.kind,
        mode=integration.mode,
        scopes=list(integration.scopes),
        status=integration.status,
        limits=msgspec.convert(integration.limits, Limits),
        created_at=now,
        api_key=full_key,
        key_id=key_id,
    )


async def list_integrations(
    rt: Runtime, admin: AdminPrincipal, tenant_id: str
) -> list[IntegrationView]:
    now = rt.clock.now()
    async with rt.db.session() as session:
        await _tenant(session, admin, tenant_id)
        integrations = list(
            await session.scalars(
                select(Integration)
                .where(Integration.tenant_id == tenant_id)
                .order_by(Integration.id)
            )
        )
        keys = list(await session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id)))
    by_integration: dict[str, list[ApiKey]] = {}
    for key in keys:
        by_integration.setdefault(key.integration_id, []).append(key)
    return [integration_view(i, by_integration.get(i.id, []), now) for i in integrations]


async def get_integration(
    rt: Runtime, admin: AdminPrincipal, integration_id: str
) -> IntegrationView:
    async with rt.db.session() as session:
        integration = await _integration(session, admin, integration_id)
        keys = await _keys(session, integration_id)
    return integration_view(integration, keys, rt.clock.now())


async def patch_integration(
    rt: Runtime, admin: AdminPrincipal, integration_id: str, body: IntegrationPatch
) -> IntegrationView:
    if body.scopes is not UNSET:
        _check_scopes(body.scopes)
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        integration = await _integration(session, admin, integration_id)
        changed: list[str] = []
        if body.name is not UNSET:
            integration.name = body.name.strip()
            changed.append("name")
        if body.scopes is not UNSET:
            integration.scopes = sorted(set(body.scopes))
            changed.append("scopes")
        if body.limits is not UNSET:
            integration.limits = _limits_dict(body.limits)
            changed.append("limits")
        if body.policy_overrides is not UNSET:
            validate_overrides(body.policy_overrides)
            integration.policy_overrides = body.policy_overrides
            changed.append("policy_overrides")
        action = "integration.updated"
        if body.status is not UNSET and body.status != integration.status:
            integration.status = body.status
            changed.append("status")
            action = "integration.disabled" if body.status == "disabled" else "integration.enabled"
        integration.updated_at = now
        record(
            session,
            at=now,
            actor=admin.actor,
            action=action,
            tenant_id=integration.tenant_id,
            integration_id=integration.id,
            target_type="integration",
            target_id=integration.id,
            details={"fields": changed},
        )
        keys = await _keys(session, integration_id)
    return integration_view(integration, keys, now)


# -- keys ------------------------------------------------------------------------------


async def rotate_key(
    rt: Runtime, admin: AdminPrincipal, integration_id: str, body: RotateRequest
) -> RotateResult:
    """Issue a new key; keys valid until now stay valid for ``grace_seconds`` more."""
    now = rt.clock.now()
    expires = now + timedelta(seconds=body.grace_seconds)
    full_key, key_id, secret = new_api_key()
    previous_expiry: datetime | None = None
    async with rt.db.transaction() as session:
        integration = await _integration(session, admin, integration_id)
        for key in await _keys(session, integration_id):
            if key.status != "active" or (key.expires_at is not None and key.expires_at <= now):
                continue
            if key.expires_at is None or key.expires_at > expires:
                key.expires_at = expires
            previous_expiry = max(previous_expiry or key.expires_at, key.expires_at)
        session.add(
            ApiKey(
                id=key_id,
                integration_id=integration_id,
                tenant_id=integration.tenant_id,
                secret_hash=rt.hasher.hash(secret),
                status="active",
                created_at=now,
            )
        )
        record(
            session,
            at=now,
            actor=admin.actor,
            action="key.rotated",
            tenant_id=integration.tenant_id,
            integration_id=integration_id,
            target_type="api_key",
            target_id=key_id,
            details={"grace_seconds": body.grace_seconds},
        )
    return RotateResult(api_key=full_key, key_id=key_id, previous_key_expires_at=previous_expiry)


async def revoke_keys(
    rt: Runtime, admin: AdminPrincipal, integration_id: str, body: RevokeRequest
) -> RevokeResult:
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        integration = await _integration(session, admin, integration_id)
        keys = await _keys(session, integration_id)
        if body.key_id is not None:
            keys = [k for k in keys if k.id == body.key_id]
            if not keys:
                raise ProblemError("NOT_FOUND", "no such key for this integration")
        revoked: list[str] = []
        for key in keys:
            if key.status == "revoked":
                continue
            key.status = "revoked"
            key.revoked_at = now
            revoked.append(key.id)
            record(
                session,
                at=now,
                actor=admin.actor,
                action="key.revoked",
                tenant_id=integration.tenant_id,
                integration_id=integration_id,
                target_type="api_key",
                target_id=key.id,
            )
    return RevokeResult(revoked=revoked)
