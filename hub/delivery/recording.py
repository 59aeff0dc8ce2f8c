"""Writing a batch's outcomes in one transaction: delivery states, attempt rows, 410s.

Every state change is conditional on the lease token the batch claimed with: if
the lease expired and another worker re-claimed a row, this batch's write for
it is dropped instead of overwriting newer truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.service import record as audit
from hub.delivery.lanes import ClaimedRow, cancel_lane
from hub.delivery.models import Delivery, DeliveryAttempt
from hub.delivery.outcomes import Verdict
from hub.delivery.sender import SendResult
from hub.hooks.models import Subscription
from hub.ids import new_id

ACTOR = "system:delivery"

_deliveries = cast(Table, Delivery.__table__)
_attempts = cast(Table, DeliveryAttempt.__table__)
# Spelled out, not IN (...): an expanding IN cannot be part of an executemany.
_still_open = or_(_deliveries.c.status == "pending", _deliveries.c.status == "retrying")


@dataclass(slots=True)
class Outcome:
    row: ClaimedRow
    result: SendResult
    verdict: Verdict


@dataclass(slots=True)
class Written:
    delivered: int
    lost_lease: int
    gone_subscriptions: list[str]


async def write_outcomes(
    session: AsyncSession, outcomes: Sequence[Outcome], *, token: str, now: datetime
) -> Written:
    if all(o.verdict.status == "delivered" for o in outcomes):
        # The common case in one statement: RETURNING says which rows were still ours.
        owned = await _mark_delivered(session, outcomes, token=token, now=now)
        mine = [o for o in outcomes if o.row.id in owned]
        await session.execute(insert(_attempts), [_attempt_row(o) for o in outcomes])
        await _track_failing(session, mine, now)
        return Written(len(mine), len(outcomes) - len(mine), [])
    owned = await _still_ours(session, [o.row.id for o in outcomes], token)
    mine = [o for o in outcomes if o.row.id in owned]
    delivered = [o for o in mine if o.verdict.status == "delivered"]
    others = [o for o in mine if o.verdict.status != "delivered"]
    if delivered:
        by_code: dict[int | None, list[str]] = {}
        for o in delivered:
            by_code.setdefault(o.result.observed.status_code, []).append(o.row.id)
        for code, ids in by_code.items():
            await session.execute(
                update(_deliveries)
                .where(
                    _deliveries.c.id.in_(ids),
                    _deliveries.c.lease_token == token,
                    _still_open,
                )
                .values(
                    status="delivered",
                    delivered_at=now,
                    last_attempt_at=now,
                    attempt_count=_deliveries.c.attempt_count + 1,
                    last_status_code=code,
                    last_error_class=None,
                    lease_until=None,
                    lease_token=None,
                )
            )
    if others:
        stmt = (
            update(_deliveries)
            .where(
                _deliveries.c.id == bindparam("b_id"),
                _deliveries.c.lease_token == token,
                _still_open,
            )
            .values(
                status=bindparam("b_status"),
                next_attempt_at=bindparam("b_next"),
                attempt_limit=bindparam("b_limit"),
                attempt_count=_deliveries.c.attempt_count + 1,
                last_attempt_at=now,
                last_status_code=bindparam("b_code"),
                last_error_class=bindparam("b_error"),
                lease_until=None,
                lease_token=None,
            )
        )
        params = [
            {
                "b_id": o.row.id,
                "b_status": o.verdict.status,
                "b_next": o.verdict.next_attempt_at or now,
                "b_limit": o.verdict.attempt_limit,
                "b_code": o.result.observed.status_code,
                "b_error": o.verdict.error_class,
            }
            for o in others
        ]
        await session.execute(stmt, params)
    # Every attempt happened, so every attempt is a row, owned or not.
    await session.execute(insert(_attempts), [_attempt_row(o) for o in outcomes])
    gone = sorted({o.row.subscription_id for o in mine if o.verdict.status == "cancelled"})
    for sub_id in gone:
        await _subscription_gone(session, sub_id, now)
    await _track_failing(session, mine, now)
    return Written(len(delivered), len(outcomes) - len(mine), gone)


_MARK_DELIVERED = (
    update(_deliveries)
    .where(
        _deliveries.c.id.in_(bindparam("ids", expanding=True)),
        _deliveries.c.lease_token == bindparam("token"),
        _still_open,
    )
    .values(
        status="delivered",
        delivered_at=bindparam("now"),
        last_attempt_at=bindparam("now"),
        attempt_count=_deliveries.c.attempt_count + 1,
        last_status_code=bindparam("code"),
        last_error_class=None,
        lease_until=None,
        lease_token=None,
    )
    .returning(_deliveries.c.id)
)


async def _mark_delivered(
    session: AsyncSession, outcomes: Sequence[Outcome], *, token: str, now: datetime
) -> set[str]:
    owned: set[str] = set()
    by_code: dict[int | None, list[str]] = {}
    for o in outcomes:
        by_code.setdefault(o.result.observed.status_code, []).append(o.row.id)
    for code, ids in by_code.items():
        result = await session.execute(
            _MARK_DELIVERED, {"ids": ids, "token": token, "now": now, "code": code}
        )
        owned.update(result.scalars())
    return owned


async def _still_ours(session: AsyncSession, ids: list[str], token: str) -> set[str]:
    """The rows this batch still holds the lease of, locked until the commit."""
    rows = await session.scalars(
        select(_deliveries.c.id)
        .where(_deliveries.c.id.in_(ids), _deliveries.c.lease_token == token, _still_open)
        .with_for_update()
    )
    return set(rows)


def _attempt_row(o: Outcome) -> dict[str, Any]:
    return {
        "id": new_id("attempt"),
        "delivery_id": o.row.id,
        "number": o.row.attempt_count + 1,
        "replay": o.row.replay_count,
        "started_at": o.result.started_at,
        "duration_ms": o.result.duration_ms,
        "status_code": o.result.observed.status_code,
        "error_class": o.verdict.error_class,
        "response_headers": o.result.headers,
        "response_excerpt": o.result.excerpt,
    }


async def _subscription_gone(session: AsyncSession, subscription_id: str, now: datetime) -> None:
    """The receiver answered 410: Zapier and Make say so for a hook that no longer exists."""
    result = await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.status != "deleted")
        .values(status="deleted", deleted_at=now, updated_at=now)
        .returning(Subscription.tenant_id, Subscription.integration_id)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        return  # already deleted (another batch saw the 410 first)
    cancelled = await cancel_lane(session, subscription_id, now)
    audit(
        session,
        at=now,
        actor=ACTOR,
        action="subscription.gone",
        tenant_id=row[0],
        integration_id=row[1],
        target_type="subscription",
        target_id=subscription_id,
        details={"reason": "receiver answered 410 Gone", "cancelled_deliveries": cancelled},
    )


async def _track_failing(session: AsyncSession, outcomes: Sequence[Outcome], now: datetime) -> None:
    """``failing_since``: set by a failure after a success (or a change); a success clears it."""
    succeeded = {o.row.subscription_id for o in outcomes if o.verdict.status == "delivered"}
    failed = {
        o.row.subscription_id
        for o in outcomes
        if o.verdict.status in ("retrying", "dead") and o.row.subscription_id not in succeeded
    }
    if succeeded:
        await session.execute(
            update(Subscription)
            .where(Subscription.id.in_(succeeded), Subscription.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
    if failed:
        await session.execute(
            update(Subscription)
            .where(
                Subscription.id.in_(failed),
                # A change after the failing started (a re-enable, a new rate)
                # restarts the auto-disable clock.
                or_(
                    Subscription.failing_since.is_(None),
                    Subscription.failing_since < Subscription.updated_at,
                ),
            )
            .values(failing_since=now)
            .execution_options(synchronize_session=False)
        )
