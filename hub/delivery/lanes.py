"""The database side of a lane: what a subscription needs to send, how much of it
is due, and cancelling it.

Claiming a lane's due rows is the backend's (``hub/store/lanes.py``, reached as
``rt.stores.lane_claims``): on Postgres its candidates are row-locked ``SKIP LOCKED``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.delivery.models import Delivery
from hub.delivery.outcomes import DEFAULT_SCHEDULE
from hub.hooks.models import Subscription, SubscriptionSecret
from hub.security.encryption import DecryptionError, Vault
from hub.store.lanes import IS_OPEN as _OPEN
from hub.store.lanes import NOW as _NOW
from hub.store.lanes import OPEN_STATUSES as OPEN_STATUSES
from hub.store.lanes import UNLEASED as _LIVE
from hub.store.lanes import ClaimedRow as ClaimedRow
from hub.store.lanes import Executor as Executor
from hub.tenancy.models import Tenant


@dataclass(slots=True)
class Lane:
    subscription_id: str
    tenant_id: str
    integration_id: str
    target_url: str
    status: str  # the subscription's, or "held" while its tenant is disabled
    rate_per_second: float
    schedule: tuple[int, ...]
    deliveries_per_minute: int | None
    secrets: list[str]
    # ``sender.check_target`` of the URL ("" = fine), checked once per load.
    blocked: str = ""


async def load_lanes(
    db: Executor, subscription_ids: Sequence[str], now: datetime, vault: Vault
) -> dict[str, Lane]:
    rows = await db.execute(
        select(
            Subscription.id,
            Subscription.tenant_id,
            Subscription.integration_id,
            Subscription.target_url,
            Subscription.status,
            Subscription.rate_per_second,
            Tenant.status,
            Tenant.retry_schedule,
            Tenant.limits,
        )
        .join(Tenant, Tenant.id == Subscription.tenant_id)
        .where(Subscription.id.in_(subscription_ids))
    )
    lanes: dict[str, Lane] = {}
    for (
        sub_id,
        tenant_id,
        integration_id,
        url,
        status,
        rate,
        tenant_status,
        schedule,
        limits,
    ) in rows:
        quota = (limits or {}).get("deliveries_per_minute")
        lanes[sub_id] = Lane(
            subscription_id=sub_id,
            tenant_id=tenant_id,
            integration_id=integration_id,
            target_url=url,
            status=status if tenant_status == "active" else "held",
            rate_per_second=rate or 20.0,
            schedule=tuple(schedule) if schedule else DEFAULT_SCHEDULE,
            deliveries_per_minute=int(quota) if quota is not None else None,
            secrets=[],
        )
    if lanes:
        secrets = await db.execute(
            select(SubscriptionSecret.subscription_id, SubscriptionSecret.secret_encrypted)
            .where(
                SubscriptionSecret.subscription_id.in_(list(lanes)),
                or_(SubscriptionSecret.expires_at.is_(None), SubscriptionSecret.expires_at > now),
            )
            .order_by(SubscriptionSecret.created_at.desc())
        )
        for sub_id, encrypted in secrets:
            try:
                lanes[sub_id].secrets.append(vault.decrypt(encrypted))
            except DecryptionError:
                continue  # an undecryptable secret cannot sign; the others still do
    return lanes


@dataclass(frozen=True, slots=True)
class Backlog:
    due: int  # unleased open deliveries due now, counted up to the cap
    next_at: datetime | None  # when the next one after those comes due


@functools.cache
def _backlog_statement(lanes: int) -> Any:
    parts = []
    for n in range(lanes):
        sub = bindparam(f"sub_{n}", type_=String)
        mine = (Delivery.subscription_id == sub, _OPEN)
        due = (
            select(Delivery.id)
            .where(*mine, Delivery.next_attempt_at <= _NOW, _LIVE)
            .limit(bindparam("cap", type_=Integer))
            .subquery()
        )
        upcoming = select(func.min(Delivery.next_attempt_at)).where(
            *mine, Delivery.next_attempt_at > _NOW
        )
        parts.append(
            select(
                sub,
                select(func.count()).select_from(due).scalar_subquery(),
                upcoming.scalar_subquery(),
            )
        )
    return union_all(*parts) if len(parts) > 1 else parts[0]


async def backlogs(
    db: Executor, subscription_ids: Sequence[str], now: datetime, cap: int
) -> dict[str, Backlog]:
    """Per lane, in one round trip: how much is due (so no token is taken for
    nothing) and when the lane is next due (so it is re-marked for exactly then)."""
    if not subscription_ids:
        return {}
    params: dict[str, Any] = {f"sub_{n}": sub for n, sub in enumerate(subscription_ids)}
    params.update(now=now, cap=cap)
    rows = await db.execute(_backlog_statement(len(subscription_ids)), params)
    found: dict[str, Backlog] = {}
    for sub_id, due_count, next_at in rows:
        if isinstance(next_at, str):  # SQLite hands back aggregate datetimes as text
            next_at = _as_utc(datetime.fromisoformat(next_at))
        found[sub_id] = Backlog(int(due_count or 0), next_at)
    return found


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def cancel_lane(session: AsyncSession, subscription_id: str, now: datetime) -> int:
    """The subscription is gone: its open deliveries will never be sent."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status.in_(OPEN_STATUSES))
        .values(status="cancelled", lease_until=None, lease_token=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
