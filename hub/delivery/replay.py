"""Replaying the dead-letter queue: by ids or by filter, page by page, audited.

A replayed delivery keeps its id (the ``webhook-id``, so receivers still dedupe),
starts a fresh attempt count, and goes back to its lane as pending: the lane's
rate limit paces it, so replaying 100,000 does not flood a receiver. A delivery
whose subscription was deleted, or whose body was purged, is refused with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin.auth import AdminPrincipal
from hub.audit.service import record as audit
from hub.delivery import ready
from hub.delivery.models import Delivery
from hub.delivery.queries import filtered, scoped
from hub.delivery.schemas import DeliveryFilter, ReplayRefusal, ReplayRequest, ReplayResult
from hub.hooks.models import Subscription
from hub.runtime import Runtime
from hub.web.errors import FieldError, ProblemError

log = logging.getLogger("hub.delivery")

PAGE = 1000
MAX_LISTED_REFUSALS = 1000


@dataclass
class _Tally:
    queued: int = 0
    refused_count: int = 0
    refused: list[ReplayRefusal] = field(default_factory=list)
    lanes: set[str] = field(default_factory=set)

    def refuse(self, delivery_id: str, reason: Any) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED_REFUSALS:
            self.refused.append(ReplayRefusal(delivery_id, reason))


def _validate(request: ReplayRequest) -> None:
    if (request.ids is None) == (request.filter is None):
        raise ProblemError(
            "VALIDATION_FAILED",
            "give either ids or a filter",
            errors=[FieldError(path="$", message="exactly one of ids, filter is required")],
        )
    if request.filter is not None and request.filter.status not in (None, "dead"):
        raise ProblemError(
            "VALIDATION_FAILED",
            "only dead deliveries are replayed",
            errors=[FieldError(path="$.filter.status", message="must be 'dead' or absent")],
        )


_COLUMNS = (
    Delivery.id,
    Delivery.status,
    Delivery.subscription_id,
    Delivery.tenant_id,
    Delivery.body.is_(None),
    Subscription.status,
)


async def _requeue(
    session: AsyncSession, rows: Sequence[Any], tally: _Tally, now: datetime
) -> None:
    eligible: list[str] = []
    for delivery_id, status, sub_id, _tenant, purged, sub_status in rows:
        if status != "dead":
            tally.refuse(delivery_id, "not_dead")
        elif sub_status == "deleted":
            tally.refuse(delivery_id, "subscription_deleted")
        elif purged:
            tally.refuse(delivery_id, "body_purged")
        else:
            eligible.append(delivery_id)
            tally.lanes.add(sub_id)
    if not eligible:
        return
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(eligible), Delivery.status == "dead")
        .values(
            status="pending",
            attempt_count=0,
            attempt_limit=None,
            next_attempt_at=now,
            replay_count=Delivery.replay_count + 1,
            lease_until=None,
            lease_token=None,
        )
        .execution_options(synchronize_session=False)
    )
    tally.queued += int(getattr(result, "rowcount", 0) or 0)


async def replay(rt: Runtime, admin: AdminPrincipal, request: ReplayRequest) -> ReplayResult:
    _validate(request)
    now = rt.clock.now()
    tally = _Tally()
    base = select(*_COLUMNS).join(Subscription, Subscription.id == Delivery.subscription_id)
    flt: DeliveryFilter | None = None
    if request.ids is not None:
        ids = list(dict.fromkeys(request.ids))
        stmt = base.where(Delivery.id.in_(ids))
        if admin.tenant_id is not None:
            stmt = stmt.where(Delivery.tenant_id == admin.tenant_id)
        async with rt.db.transaction() as session:
            rows: Sequence[Any] = (await session.execute(stmt)).all()
            found = {row[0] for row in rows}
            for missing in (i for i in ids if i not in found):
                tally.refuse(missing, "not_found")
            await _requeue(session, rows, tally, now)
    else:
        assert request.filter is not None
        flt = scoped(admin, request.filter)
        flt = DeliveryFilter(**{**msgspec.structs.asdict(flt), "status": "dead"})
        after = ""
        while True:
            async with rt.db.transaction() as session:
                stmt = filtered(base, flt).where(Delivery.id > after)
                rows = (await session.execute(stmt.order_by(Delivery.id).limit(PAGE))).all()
                if not rows:
                    break
                await _requeue(session, rows, tally, now)
            after = rows[-1][0]
    await _audit(rt, admin, request, flt, tally, now)
    await _hand_over(rt, tally, now)
    return ReplayResult(
        queued=tally.queued, refused_count=tally.refused_count, refused=tally.refused
    )


async def _audit(
    rt: Runtime,
    admin: AdminPrincipal,
    request: ReplayRequest,
    flt: DeliveryFilter | None,
    tally: _Tally,
    now: datetime,
) -> None:
    details: dict[str, Any] = {"queued": tally.queued, "refused": tally.refused_count}
    if flt is not None:
        details["filter"] = msgspec.to_builtins(flt)
    if request.ids is not None:
        details["ids_requested"] = len(request.ids)
        details["ids"] = request.ids[:100]
    tenant_id = admin.tenant_id or (flt.tenant_id if flt is not None else None)
    async with rt.db.transaction() as session:
        audit(
            session,
            at=now,
            actor=admin.actor,
            action="deliveries.replay",
            tenant_id=tenant_id,
            target_type="delivery",
            target_id=request.ids[0] if request.ids and len(request.ids) == 1 else None,
            details=details,
        )


async def _hand_over(rt: Runtime, tally: _Tally, now: datetime) -> None:
    """After commit: tell the engine; if Redis is away the sweeper finds them anyway."""
    if not tally.lanes:
        return
    try:
        await ready.mark_ready(rt, dict.fromkeys(tally.lanes, now))
        await ready.wake(rt)
    except Exception:
        log.warning("replayed deliveries wait for the sweeper", exc_info=True)
