"""Reading deliveries for admins: lists with filters, one delivery with its attempts,
a subscription's delivery health. Every query is narrowed to the admin's tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select, update

from hub.admin.auth import AdminPrincipal
from hub.audit.service import record as audit
from hub.delivery.breaker import Breaker
from hub.delivery.models import Delivery, DeliveryAttempt
from hub.delivery.schemas import (
    AttemptView,
    BreakerView,
    DeliveryDetail,
    DeliveryFilter,
    DeliveryView,
    LaneCounts,
    SubscriptionDeliveryPatch,
    SubscriptionDeliverySettings,
    SubscriptionHealth,
)
from hub.hooks.models import Subscription
from hub.runtime import Runtime
from hub.web.errors import ProblemError

_OPEN = ("pending", "retrying")

AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


def scoped(admin: AdminPrincipal, flt: DeliveryFilter) -> DeliveryFilter:
    """A tenant admin sees only their tenant; naming another is answered 404."""
    if admin.tenant_id is None:
        return flt
    if flt.tenant_id is not None:
        admin.require_tenant(flt.tenant_id)
    return DeliveryFilter(**{**_fields(flt), "tenant_id": admin.tenant_id})


def _fields(flt: DeliveryFilter) -> dict[str, Any]:
    return {name: getattr(flt, name) for name in flt.__struct_fields__}


def filtered(stmt: AnySelect, flt: DeliveryFilter) -> AnySelect:
    if flt.status is not None:
        stmt = stmt.where(Delivery.status == flt.status)
    if flt.tenant_id is not None:
        stmt = stmt.where(Delivery.tenant_id == flt.tenant_id)
    if flt.integration_id is not None:
        stmt = stmt.where(Delivery.integration_id == flt.integration_id)
    if flt.subscription_id is not None:
        stmt = stmt.where(Delivery.subscription_id == flt.subscription_id)
    if flt.event_type is not None:
        stmt = stmt.where(Delivery.event_type == flt.event_type)
    if flt.error_class is not None:
        stmt = stmt.where(Delivery.last_error_class == flt.error_class)
    if flt.target_host is not None:
        stmt = stmt.where(Delivery.subscription_id.in_(_subscriptions_on(flt.target_host)))
    if flt.since is not None:
        stmt = stmt.where(Delivery.created_at >= _aware(flt.since))
    if flt.until is not None:
        stmt = stmt.where(Delivery.created_at < _aware(flt.until))
    return stmt


def _subscriptions_on(host: str) -> Any:
    """Ids of the subscriptions whose target URL is on ``host`` (any scheme or port).

    ``host`` matches ``HOST_NAME`` (no ``%`` nor ``_``), so it is literal in LIKE.
    """
    url = func.lower(Subscription.target_url)
    host = host.lower().rstrip(".")
    on_host = [
        url.like(f"{scheme}://{host}{end}")
        for scheme in ("https", "http")
        for end in ("/%", ":%", "?%", "#%", "")
    ]
    return select(Subscription.id).where(or_(*on_host))


def _aware(moment: datetime) -> datetime:
    """A time without an offset is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def delivery_view(d: Delivery) -> DeliveryView:
    return DeliveryView(**_view_fields(d))


def _view_fields(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "tenant_id": d.tenant_id,
        "integration_id": d.integration_id,
        "subscription_id": d.subscription_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "sandbox": d.sandbox,
        "status": d.status,
        "attempt_count": d.attempt_count,
        "replay_count": d.replay_count,
        "next_attempt_at": d.next_attempt_at if d.status in _OPEN else None,
        "last_attempt_at": d.last_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error_class": d.last_error_class,
        "created_at": d.created_at,
        "event_received_at": d.event_received_at,
        "delivered_at": d.delivered_at,
    }


async def list_deliveries(
    rt: Runtime,
    admin: AdminPrincipal,
    flt: DeliveryFilter,
    *,
    before_id: str | None,
    limit: int,
) -> list[DeliveryView]:
    stmt = filtered(select(Delivery), scoped(admin, flt))
    if before_id is not None:
        stmt = stmt.where(Delivery.id < before_id)
    stmt = stmt.order_by(Delivery.id.desc()).limit(limit)
    async with rt.db.session() as session:
        return [delivery_view(d) for d in await session.scalars(stmt)]


async def count_deliveries(rt: Runtime, admin: AdminPrincipal, flt: DeliveryFilter) -> int:
    """How many deliveries ``flt`` matches (what a bulk replay asks to confirm)."""
    stmt = filtered(select(func.count()).select_from(Delivery), scoped(admin, flt))
    async with rt.db.session() as session:
        return int((await session.execute(stmt)).scalar_one())


async def sent_body(rt: Runtime, admin: AdminPrincipal, delivery_id: str) -> bytes | None:
    """The body a delivery sends: already sanitized by its integration's policy (None
    once purged by retention)."""
    async with rt.db.session() as session:
        d = await session.get(Delivery, delivery_id)
        if d is None or (admin.tenant_id is not None and d.tenant_id != admin.tenant_id):
            raise ProblemError("NOT_FOUND", "no such delivery")
        return d.body


async def get_delivery(rt: Runtime, admin: AdminPrincipal, delivery_id: str) -> DeliveryDetail:
    async with rt.db.session() as session:
        d = await session.get(Delivery, delivery_id)
        if d is None or (admin.tenant_id is not None and d.tenant_id != admin.tenant_id):
            raise ProblemError("NOT_FOUND", "no such delivery")
        attempts = await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.started_at, DeliveryAttempt.replay, DeliveryAttempt.number)
        )
        views = [
            AttemptView(
                number=a.number,
                replay=a.replay,
                started_at=a.started_at,
                duration_ms=a.duration_ms,
                status_code=a.status_code,
                error_class=a.error_class,
                response_headers=a.response_headers or {},
                response_excerpt=a.response_excerpt,
            )
            for a in attempts
        ]
        return DeliveryDetail(**_view_fields(d), attempts=views)


async def _subscription(rt: Runtime, admin: AdminPrincipal, subscription_id: str) -> Subscription:
    async with rt.db.session() as session:
        sub = await session.get(Subscription, subscription_id)
    if sub is None or (admin.tenant_id is not None and sub.tenant_id != admin.tenant_id):
        raise ProblemError("NOT_FOUND", "no such subscription")
    return sub


async def subscription_health(
    rt: Runtime, admin: AdminPrincipal, subscription_id: str, breaker: Breaker
) -> SubscriptionHealth:
    sub = await _subscription(rt, admin, subscription_id)
    async with rt.db.session() as session:
        result = await session.execute(
            select(Delivery.status, func.count())
            .where(
                Delivery.subscription_id == subscription_id,
                Delivery.status.in_(("pending", "retrying", "dead")),
            )
            .group_by(Delivery.status)
        )
        counts: dict[str, int] = {status: n for status, n in result}
    now = rt.clock.now()
    state = await breaker.state(subscription_id, now)
    open_until = None
    if state.open_until is not None:
        open_until = datetime.fromtimestamp(state.open_until, UTC)
    return SubscriptionHealth(
        subscription_id=sub.id,
        status=sub.status,
        rate_per_second=sub.rate_per_second,
        failing_since=sub.failing_since,
        disabled_reason=sub.disabled_reason,
        breaker=BreakerView(
            state=state.state,
            open_until=open_until,
            cooldown_seconds=state.cooldown_seconds,
            consecutive_failures=state.consecutive_failures,
            window_attempts=state.window_attempts,
            window_failures=state.window_failures,
        ),
        deliveries=LaneCounts(
            pending=counts.get("pending", 0),
            retrying=counts.get("retrying", 0),
            dead=counts.get("dead", 0),
        ),
    )


async def set_rate(
    rt: Runtime, admin: AdminPrincipal, subscription_id: str, body: SubscriptionDeliveryPatch
) -> SubscriptionDeliverySettings:
    sub = await _subscription(rt, admin, subscription_id)
    if sub.status == "deleted":
        raise ProblemError("NOT_FOUND", "no such subscription")
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == subscription_id)
            .values(rate_per_second=body.rate_per_second, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        audit(
            session,
            at=now,
            actor=admin.actor,
            action="subscription.rate_changed",
            tenant_id=sub.tenant_id,
            integration_id=sub.integration_id,
            target_type="subscription",
            target_id=subscription_id,
            details={"from": sub.rate_per_second, "to": body.rate_per_second},
        )
    return SubscriptionDeliverySettings(subscription_id, body.rate_per_second)
