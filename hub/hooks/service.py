"""Subscribing and unsubscribing (the REST-hook contract Zapier and Make rely on).

- Subscribe is idempotent per (integration, event type, target URL): Zapier and
  Make subscribe again on every re-enable. The existing subscription comes back
  with 200 (201 only when created) and the same signing secret: the answer to a
  repeated request is the answer to the first one, as with an Idempotency-Key
  replay; only the integration that owns the hook can get it.
- Unsubscribe answers 204 also when the hook is already gone, so it can be
  repeated safely; another integration's hook id is 404, never 403.
- Subscribing needs ``triggers:<type>`` (or ``triggers:*``); unsubscribing only
  ownership, so losing a scope never strands a hook that keeps receiving data.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.service import record
from hub.events.catalog import EVENT_TYPES
from hub.hooks.models import Subscription
from hub.hooks.schemas import HookCreate, HookCreated, HookView
from hub.hooks.secrets import live_secret_rows, new_secret
from hub.ids import new_id
from hub.runtime import Runtime
from hub.sanitize import default_policies
from hub.security.targets import check_target_url
from hub.tenancy.auth import IntegrationPrincipal
from hub.tenancy.models import Integration
from hub.web.errors import FieldError, ProblemError

DEFAULT_RATE_PER_SECOND = 20.0


def hook_view(sub: Subscription) -> HookView:
    return HookView(
        id=sub.id,
        event=sub.event_type,
        target_url=sub.target_url,
        status=sub.status,
        created_at=sub.created_at,
    )


def _created(sub: Subscription, secret: str) -> HookCreated:
    return HookCreated(
        id=sub.id,
        event=sub.event_type,
        target_url=sub.target_url,
        status=sub.status,
        secret=secret,
        created_at=sub.created_at,
    )


def _actor(principal: IntegrationPrincipal) -> str:
    return f"integration:{principal.integration_id}"


async def _check_request(rt: Runtime, principal: IntegrationPrincipal, body: HookCreate) -> None:
    principal.require_scope(f"triggers:{body.event}")
    if body.event not in EVENT_TYPES:
        raise ProblemError(
            "VALIDATION_FAILED",
            "unknown event type",
            errors=[FieldError(path="$.event", message="not in the event catalog")],
        )
    # Fail closed: what has no usable policy for this integration is never delivered.
    if default_policies().for_integration(body.event, principal.policy_overrides) is None:
        raise ProblemError(
            "VALIDATION_FAILED",
            "this event type cannot be delivered to this integration",
            errors=[FieldError(path="$.event", message="no usable sanitizer policy")],
        )
    # The same check as a tenant's upstream_url (ASCII, scheme, refused ranges).
    await check_target_url(body.target_url, rt.settings, path="$.target_url")


async def _live_match(
    session: AsyncSession, principal: IntegrationPrincipal, body: HookCreate
) -> Subscription | None:
    found = await session.scalars(
        select(Subscription).where(
            Subscription.integration_id == principal.integration_id,
            Subscription.event_type == body.event,
            Subscription.target_url == body.target_url,
            Subscription.status != "deleted",
        )
    )
    return found.first()


async def _existing(
    rt: Runtime, session: AsyncSession, principal: IntegrationPrincipal, sub: Subscription
) -> HookCreated:
    now = rt.clock.now()
    if sub.status == "disabled":
        # Auto-disabled after failing; a re-subscribe means the zap was fixed and
        # turned on again. A pause is an admin's decision and stays.
        sub.status = "active"
        sub.disabled_reason = None
        sub.failing_since = None
        sub.updated_at = now
        record(
            session,
            at=now,
            actor=_actor(principal),
            action="subscription.reactivated",
            tenant_id=sub.tenant_id,
            integration_id=sub.integration_id,
            target_type="subscription",
            target_id=sub.id,
        )
    rows = await live_secret_rows(session, sub.id, now)
    if rows:
        secret = rt.vault.decrypt(rows[0].secret_encrypted)
    else:  # every secret expired (a rotation with no grace, then lost): issue one
        row, secret = new_secret(rt.vault, sub.id, now)
        session.add(row)
    return _created(sub, secret)


async def subscribe(
    rt: Runtime, principal: IntegrationPrincipal, body: HookCreate
) -> tuple[HookCreated, bool]:
    """The subscription and whether it was created (201) or already there (200)."""
    await _check_request(rt, principal, body)
    for _ in range(2):  # a concurrent identical subscribe wins the unique index: read it
        try:
            return await _subscribe_once(rt, principal, body)
        except IntegrityError:
            continue
    raise ProblemError("CONFLICT", "the subscription changed concurrently; retry")


async def _subscribe_once(
    rt: Runtime, principal: IntegrationPrincipal, body: HookCreate
) -> tuple[HookCreated, bool]:
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        # Serialize one integration's subscribes (Postgres) so the cap holds.
        await session.execute(
            select(Integration.id)
            .where(Integration.id == principal.integration_id)
            .with_for_update()
        )
        existing = await _live_match(session, principal, body)
        if existing is not None:
            return await _existing(rt, session, principal, existing), False
        count = await session.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(
                Subscription.integration_id == principal.integration_id,
                Subscription.status != "deleted",
            )
        )
        cap = rt.settings.max_subscriptions_per_integration
        if (count or 0) >= cap:
            raise ProblemError(
                "CONFLICT", f"this integration has {cap} subscriptions, the most allowed"
            )
        sub = Subscription(
            id=new_id("subscription"),
            tenant_id=principal.tenant_id,
            integration_id=principal.integration_id,
            event_type=body.event,
            target_url=body.target_url,
            status="active",
            sandbox=principal.sandbox,
            rate_per_second=DEFAULT_RATE_PER_SECOND,
            created_at=now,
            updated_at=now,
        )
        session.add(sub)
        await session.flush()
        row, secret = new_secret(rt.vault, sub.id, now)
        session.add(row)
        record(
            session,
            at=now,
            actor=_actor(principal),
            action="subscription.created",
            tenant_id=principal.tenant_id,
            integration_id=principal.integration_id,
            target_type="subscription",
            target_id=sub.id,
            # The host only: hook URLs are bearer capabilities.
            details={"event_type": body.event, "target_host": urlsplit(body.target_url).hostname},
        )
    return _created(sub, secret), True


async def _owned(
    session: AsyncSession, principal: IntegrationPrincipal, hook_id: str
) -> Subscription:
    sub = await session.get(Subscription, hook_id)
    if sub is None or sub.integration_id != principal.integration_id:
        raise ProblemError("NOT_FOUND", "no such hook")
    return sub


async def unsubscribe(rt: Runtime, principal: IntegrationPrincipal, hook_id: str) -> None:
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        sub = await _owned(session, principal, hook_id)
        if sub.status == "deleted":
            return
        sub.status = "deleted"
        sub.deleted_at = now
        sub.updated_at = now
        record(
            session,
            at=now,
            actor=_actor(principal),
            action="subscription.deleted",
            tenant_id=sub.tenant_id,
            integration_id=sub.integration_id,
            target_type="subscription",
            target_id=sub.id,
        )


async def list_hooks(rt: Runtime, principal: IntegrationPrincipal) -> list[HookView]:
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(Subscription)
            .where(
                Subscription.integration_id == principal.integration_id,
                Subscription.status != "deleted",
            )
            .order_by(Subscription.id)
        )
        return [hook_view(s) for s in rows]


async def get_hook(rt: Runtime, principal: IntegrationPrincipal, hook_id: str) -> HookView:
    async with rt.db.session() as session:
        sub = await _owned(session, principal, hook_id)
    if sub.status == "deleted":
        raise ProblemError("NOT_FOUND", "no such hook")
    return hook_view(sub)
