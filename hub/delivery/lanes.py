"""Postgres side of a lane: what a subscription needs to send, and claiming its due rows.

A claim is a conditional UPDATE that sets a lease (time + token) on rows that are
pending or retrying, due, and not leased by a live worker. On Postgres the
candidates are picked ``FOR UPDATE SKIP LOCKED`` so concurrent workers take
different rows; the outer WHERE re-checks the lease so a row is never claimed
twice. SQLite has one writer at a time, so the same statement is already safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.delivery.models import Delivery
from hub.delivery.outcomes import DEFAULT_SCHEDULE
from hub.hooks.models import Subscription, SubscriptionSecret
from hub.security.encryption import DecryptionError, Vault
from hub.store.base import UTCDateTime
from hub.tenancy.models import Tenant

OPEN_STATUSES = ("pending", "retrying")


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


@dataclass(slots=True)
class ClaimedRow:
    id: str
    subscription_id: str
    tenant_id: str
    integration_id: str
    event_type: str
    body: bytes | None
    attempt_count: int
    attempt_limit: int | None
    replay_count: int
    event_received_at: datetime
    probe: bool = False


def _live(now: datetime) -> Any:
    return or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)


async def load_lanes(
    session: AsyncSession, subscription_ids: Sequence[str], now: datetime, vault: Vault
) -> dict[str, Lane]:
    rows = await session.execute(
        select(Subscription, Tenant.status, Tenant.retry_schedule, Tenant.limits)
        .join(Tenant, Tenant.id == Subscription.tenant_id)
        .where(Subscription.id.in_(subscription_ids))
    )
    lanes: dict[str, Lane] = {}
    for sub, tenant_status, schedule, limits in rows:
        quota = (limits or {}).get("deliveries_per_minute")
        lanes[sub.id] = Lane(
            subscription_id=sub.id,
            tenant_id=sub.tenant_id,
            integration_id=sub.integration_id,
            target_url=sub.target_url,
            status=sub.status if tenant_status == "active" else "held",
            rate_per_second=sub.rate_per_second or 20.0,
            schedule=tuple(schedule) if schedule else DEFAULT_SCHEDULE,
            deliveries_per_minute=int(quota) if quota is not None else None,
            secrets=[],
        )
    if lanes:
        secrets = await session.execute(
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


async def claim(
    session: AsyncSession,
    subscription_id: str,
    *,
    now: datetime,
    limit: int,
    lease_until: datetime,
    token: str,
    is_postgres: bool,
) -> list[ClaimedRow]:
    candidates = (
        select(Delivery.id)
        .where(
            Delivery.subscription_id == subscription_id,
            Delivery.status.in_(OPEN_STATUSES),
            Delivery.next_attempt_at <= now,
            _live(now),
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    if is_postgres:
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, not ``IN (subquery)``: Postgres may run a semi-join's subquery more
    # than once, and with SKIP LOCKED each run picks other rows (claiming more
    # than ``limit``); a FOR UPDATE CTE is materialized exactly once.
    due = candidates.cte("due")
    stmt = (
        update(Delivery)
        .where(
            Delivery.id.in_(select(due.c.id)),
            Delivery.status.in_(OPEN_STATUSES),
            _live(now),
        )
        .values(lease_until=lease_until, lease_token=token)
        .returning(
            Delivery.id,
            Delivery.subscription_id,
            Delivery.tenant_id,
            Delivery.integration_id,
            Delivery.event_type,
            Delivery.body,
            Delivery.attempt_count,
            Delivery.attempt_limit,
            Delivery.replay_count,
            Delivery.event_received_at,
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return [
        ClaimedRow(
            id=r[0],
            subscription_id=r[1],
            tenant_id=r[2],
            integration_id=r[3],
            event_type=r[4],
            body=r[5],
            attempt_count=r[6],
            attempt_limit=r[7],
            replay_count=r[8],
            event_received_at=r[9],
        )
        for r in result
    ]


@dataclass(frozen=True, slots=True)
class Backlog:
    due: int  # unleased open deliveries due now, counted up to the cap
    next_at: datetime | None  # when the next one after those comes due


async def backlogs(
    session: AsyncSession, subscription_ids: Sequence[str], now: datetime, cap: int
) -> dict[str, Backlog]:
    """Per lane, in one round trip: how much is due (so no token is taken for
    nothing) and when the lane is next due (so it is re-marked for exactly then)."""
    if not subscription_ids:
        return {}
    parts = []
    for sub_id in subscription_ids:
        mine = (Delivery.subscription_id == sub_id, Delivery.status.in_(OPEN_STATUSES))
        due = (
            select(Delivery.id)
            .where(*mine, Delivery.next_attempt_at <= now, _live(now))
            .limit(cap)
            .subquery()
        )
        upcoming = select(func.min(Delivery.next_attempt_at)).where(
            *mine, Delivery.next_attempt_at > now
        )
        parts.append(
            select(
                literal(sub_id, String),
                select(func.count()).select_from(due).scalar_subquery(),
                upcoming.scalar_subquery(),
            )
        )
    rows = await session.execute(union_all(*parts) if len(parts) > 1 else parts[0])
    found: dict[str, Backlog] = {}
    for sub_id, due_count, next_at in rows:
        if isinstance(next_at, str):  # SQLite hands back aggregate datetimes as text
            next_at = UTCDateTime().process_result_value(datetime.fromisoformat(next_at), None)  # type: ignore[arg-type]
        found[sub_id] = Backlog(int(due_count or 0), next_at)
    return found


async def cancel_lane(session: AsyncSession, subscription_id: str, now: datetime) -> int:
    """The subscription is gone: its open deliveries will never be sent."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status.in_(OPEN_STATUSES))
        .values(status="cancelled", lease_until=None, lease_token=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
