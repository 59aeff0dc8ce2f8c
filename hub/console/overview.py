"""The dashboard's figures, per tenant, over the last 24 hours: events in, deliveries
sent and failed (hour by hour, for the small charts), the DLQ's depth, open breakers and
auto-disabled subscriptions. Counted with GROUP BY on indexed columns, never row by row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hub.admin.auth import AdminPrincipal
from hub.delivery.models import Delivery
from hub.events.models import Event
from hub.hooks.models import Subscription
from hub.runtime import Runtime
from hub.tenancy.models import Tenant

HOURS = 24
FAILED = ("retrying", "dead")


@dataclass
class TenantFigures:
    tenant_id: str
    name: str
    events_in: int = 0
    delivered: int = 0
    failed: int = 0  # retrying or dead, of the deliveries created in the window
    dead: int = 0  # the DLQ's depth (all time)
    open_breakers: int = 0
    disabled_subscriptions: int = 0
    delivered_by_hour: list[int] = field(default_factory=lambda: [0] * HOURS)
    failed_by_hour: list[int] = field(default_factory=lambda: [0] * HOURS)

    @property
    def failure_rate(self) -> float:
        total = self.delivered + self.failed
        return self.failed / total if total else 0.0


def _hour_of(rt: Runtime, column: Any) -> Any:
    if rt.db.engine.dialect.name == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _index(start: datetime, hour: Any) -> int | None:
    if isinstance(hour, str):
        hour = datetime.fromisoformat(hour).replace(tzinfo=start.tzinfo)
    if hour.tzinfo is None:
        hour = hour.replace(tzinfo=start.tzinfo)
    i = int((hour - start).total_seconds() // 3600)
    return i if 0 <= i < HOURS else None


async def figures(
    rt: Runtime, admin: AdminPrincipal, open_breakers: list[str]
) -> list[TenantFigures]:
    now = rt.clock.now()
    start = (now - timedelta(hours=HOURS - 1)).replace(minute=0, second=0, microsecond=0)
    scope = [Tenant.id == admin.tenant_id] if admin.tenant_id is not None else []
    async with rt.db.session() as session:
        tenants = (await session.execute(select(Tenant.id, Tenant.name).where(*scope))).all()
        out = {tid: TenantFigures(tid, name) for tid, name in tenants}
        ids = list(out)
        for tid, n in await session.execute(
            select(Event.tenant_id, func.count())
            .where(Event.tenant_id.in_(ids), Event.received_at >= start)
            .group_by(Event.tenant_id)
        ):
            out[tid].events_in = int(n)
        hour = _hour_of(rt, Delivery.created_at)
        for tid, status, at, n in await session.execute(
            select(Delivery.tenant_id, Delivery.status, hour, func.count())
            .where(Delivery.tenant_id.in_(ids), Delivery.created_at >= start)
            .group_by(Delivery.tenant_id, Delivery.status, hour)
        ):
            i = _index(start, at)
            if status == "delivered":
                out[tid].delivered += int(n)
                if i is not None:
                    out[tid].delivered_by_hour[i] += int(n)
            elif status in FAILED:
                out[tid].failed += int(n)
                if i is not None:
                    out[tid].failed_by_hour[i] += int(n)
        for tid, n in await session.execute(
            select(Delivery.tenant_id, func.count())
            .where(Delivery.tenant_id.in_(ids), Delivery.status == "dead")
            .group_by(Delivery.tenant_id)
        ):
            out[tid].dead = int(n)
        for tid, n in await session.execute(
            select(Subscription.tenant_id, func.count())
            .where(Subscription.tenant_id.in_(ids), Subscription.status == "disabled")
            .group_by(Subscription.tenant_id)
        ):
            out[tid].disabled_subscriptions = int(n)
        if open_breakers:
            for tid, n in await session.execute(
                select(Subscription.tenant_id, func.count())
                .where(Subscription.tenant_id.in_(ids), Subscription.id.in_(open_breakers))
                .group_by(Subscription.tenant_id)
            ):
                out[tid].open_breakers = int(n)
    return list(out.values())


async def open_breaker_ids(rt: Runtime) -> list[str]:
    """The subscriptions whose breaker is open or half-open now."""
    members = await rt.redis.zrange(rt.keys.breakers_open, 0, -1)
    return [m.decode() if isinstance(m, bytes) else str(m) for m in members]


def bars(values: list[int], width: int = 144, height: int = 28) -> list[dict[str, float]]:
    """The small chart's bars (SVG rectangles), scaled to the busiest hour."""
    top = max(values) or 1
    step = width / len(values)
    return [
        {"x": i * step, "w": step - 1, "h": max(1.0, v / top * height) if v else 0.0}
        for i, v in enumerate(values)
    ]
