"""Admin rules for subscriptions: list, pause, resume, delete, rotate the secret.

Tenant-scoped admin tokens see only their tenant's subscriptions (others are
404). Every change is audited in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin.auth import AdminPrincipal
from hub.audit.service import record
from hub.hooks import secrets
from hub.hooks.models import Subscription, SubscriptionSecret
from hub.hooks.schemas import SecretRotate, SecretRotated, SecretView, SubscriptionView
from hub.runtime import Runtime
from hub.web.errors import ProblemError


def _newest_first(row: SubscriptionSecret) -> tuple[bool, datetime, str]:
    """The current secret first, as the delivery engine orders them."""
    return (row.expires_at is None, row.created_at, row.id)


def subscription_view(
    sub: Subscription, secret_rows: list[SubscriptionSecret], now: datetime
) -> SubscriptionView:
    return SubscriptionView(
        id=sub.id,
        tenant_id=sub.tenant_id,
        integration_id=sub.integration_id,
        event_type=sub.event_type,
        target_url=sub.target_url,
        status=sub.status,
        sandbox=sub.sandbox,
        disabled_reason=sub.disabled_reason,
        failing_since=sub.failing_since,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        deleted_at=sub.deleted_at,
        secrets=[
            SecretView(
                id=r.id,
                status=secrets.secret_status(r, now),
                created_at=r.created_at,
                expires_at=r.expires_at,
            )
            for r in sorted(secret_rows, key=_newest_first, reverse=True)
        ],
    )


async def _secret_rows(
    session: AsyncSession, subscription_ids: list[str]
) -> dict[str, list[SubscriptionSecret]]:
    by_sub: dict[str, list[SubscriptionSecret]] = {i: [] for i in subscription_ids}
    if subscription_ids:
        rows = await session.scalars(
            select(SubscriptionSecret).where(
                SubscriptionSecret.subscription_id.in_(subscription_ids)
            )
        )
        for row in rows:
            by_sub[row.subscription_id].append(row)
    return by_sub


async def _subscription(
    session: AsyncSession, admin: AdminPrincipal, subscription_id: str
) -> Subscription:
    sub = await session.get(Subscription, subscription_id)
    if sub is None or (admin.tenant_id is not None and sub.tenant_id != admin.tenant_id):
        raise ProblemError("NOT_FOUND", "no such subscription")
    return sub


def _audit(
    session: AsyncSession,
    admin: AdminPrincipal,
    sub: Subscription,
    action: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        at=now,
        actor=admin.actor,
        action=action,
        tenant_id=sub.tenant_id,
        integration_id=sub.integration_id,
        target_type="subscription",
        target_id=sub.id,
        details=details,
    )


async def list_subscriptions(
    rt: Runtime,
    admin: AdminPrincipal,
    *,
    tenant_id: str | None,
    integration_id: str | None,
    status: str | None,
    event_type: str | None,
    before_id: str | None,
    limit: int,
) -> list[SubscriptionView]:
    if admin.tenant_id is not None:
        if tenant_id is not None:
            admin.require_tenant(tenant_id)
        tenant_id = admin.tenant_id
    stmt = select(Subscription)
    for column, value in (
        (Subscription.tenant_id, tenant_id),
        (Subscription.integration_id, integration_id),
        (Subscription.status, status),
        (Subscription.event_type, event_type),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if before_id is not None:
        stmt = stmt.where(Subscription.id < before_id)
    stmt = stmt.order_by(Subscription.id.desc()).limit(limit)
    now = rt.clock.now()
    async with rt.db.session() as session:
        subs = list(await session.scalars(stmt))
        secret_rows = await _secret_rows(session, [s.id for s in subs])
    return [subscription_view(s, secret_rows[s.id], now) for s in subs]


async def get_subscription(
    rt: Runtime, admin: AdminPrincipal, subscription_id: str
) -> SubscriptionView:
    async with rt.db.session() as session:
        sub = await _subscription(session, admin, subscription_id)
        secret_rows = await _secret_rows(session, [sub.id])
    return subscription_view(sub, secret_rows[sub.id], rt.clock.now())


def _refuse_deleted(sub: Subscription, what: str) -> None:
    if sub.status == "deleted":
        raise ProblemError("CONFLICT", f"the subscription is deleted; it cannot be {what}")


async def set_paused(
    rt: Runtime, admin: AdminPrincipal, subscription_id: str, *, paused: bool
) -> SubscriptionView:
    """Pause, or resume (which also re-enables an auto-disabled subscription)."""
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        sub = await _subscription(session, admin, subscription_id)
        _refuse_deleted(sub, "paused" if paused else "resumed")
        target = "paused" if paused else "active"
        if sub.status != target:
            previous = sub.status
            sub.status = target
            if not paused:
                sub.disabled_reason = None
                sub.failing_since = None
            sub.updated_at = now
            action = "subscription.paused" if paused else "subscription.resumed"
            _audit(session, admin, sub, action, now, {"from": previous})
        secret_rows = await _secret_rows(session, [sub.id])
    return subscription_view(sub, secret_rows[sub.id], now)


async def delete_subscription(rt: Runtime, admin: AdminPrincipal, subscription_id: str) -> None:
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        sub = await _subscription(session, admin, subscription_id)
        if sub.status == "deleted":
            return
        previous = sub.status
        sub.status = "deleted"
        sub.deleted_at = now
        sub.updated_at = now
        _audit(session, admin, sub, "subscription.deleted", now, {"from": previous})


async def rotate_secret(
    rt: Runtime, admin: AdminPrincipal, subscription_id: str, body: SecretRotate
) -> SecretRotated:
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        sub = await _subscription(session, admin, subscription_id)
        _refuse_deleted(sub, "given a new secret")
        row, secret, previous_expiry = await secrets.rotate(
            session, rt.vault, sub.id, now, body.grace_seconds
        )
        _audit(
            session,
            admin,
            sub,
            "subscription.secret_rotated",
            now,
            {"grace_seconds": body.grace_seconds, "secret_id": row.id},
        )
    return SecretRotated(
        secret_id=row.id, secret=secret, previous_secrets_expire_at=previous_expiry
    )
