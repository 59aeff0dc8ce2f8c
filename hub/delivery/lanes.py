"""Postgres side of a lane: what a subscription needs to send, and claiming its due rows.

A claim is a conditional UPDATE that sets a lease (time + token) on rows that are
pending or retrying, due, and not leased by a live worker. On Postgres the
candidates are picked ``FOR UPDATE SKIP LOCKED`` so concurrent workers take
different rows; the outer WHERE re-checks the lease so a row is never claimed
twice. SQLite has one writer at a time, so the same statement is already safe.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, exists, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.delivery.models import Delivery
from hub.delivery.outcomes import DEFAULT_SCHEDULE
from hub.hooks.models import Subscription, SubscriptionSecret
from hub.security.encryption import DecryptionError, Vault
from hub.store.base import UTCDateTime
from hub.tenancy.models import Tenant

OPEN_STATUSES = ("pending", "retrying")

# The claim path runs on an autocommit connection (one round trip per statement);
# the cancel path inside a session's transaction. Both execute the same statements.
Executor = AsyncConnection | AsyncSession


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


# The claim path runs many times a second: its statements are built once, with
# bound parameters, so SQLAlchemy's compiled cache serves them.
_SUB = bindparam("sub", type_=String)
_NOW = bindparam("now", type_=UTCDateTime())
_OPEN = Delivery.status.in_(OPEN_STATUSES)
_LIVE = or_(Delivery.lease_until.is_(None), Delivery.lease_until < _NOW)


@functools.cache
def _claim_statement(is_postgres: bool) -> Any:
    candidates = (
        select(Delivery.id)
        .where(Delivery.subscription_id == _SUB, _OPEN, Delivery.next_attempt_at <= _NOW, _LIVE)
        .order_by(Delivery.next_attempt_at)
        .limit(bindparam("limit", type_=Integer))
    )
    if is_postgres:
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, not ``IN (subquery)``: Postgres may run a semi-join's subquery more
    # than once, and with SKIP LOCKED each run picks other rows (claiming more
    # than ``limit``); a FOR UPDATE CTE is materialized exactly once.
    due = candidates.cte("due")
    return (
        update(Delivery)
        .where(
            Delivery.id.in_(select(due.c.id)),
            _OPEN,
            _LIVE,
            # The lane's cached view may be a moment old: only an active
            # subscription's deliveries are ever claimed.
            exists().where(Subscription.id == _SUB, Subscription.status == "active"),
        )
        .values(lease_until=bindparam("lease_until"), lease_token=bindparam("token"))
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
    )


async def claim(
    db: Executor,
    subscription_id: str,
    *,
    now: datetime,
    limit: int,
    lease_until: datetime,
    token: str,
    is_postgres: bool,
) -> list[ClaimedRow]:
    result = await db.execute(
        _claim_statement(is_postgres),
        {
            "sub": subscription_id,
            "now": now,
            "limit": limit,
            "lease_until": lease_until,
            "token": token,
        },
    )
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
