"""Auto-disable: a subscription whose every attempt failed for days stops being tried.

``failing_since`` is set by the first failure after a success and cleared by a
success (``recording``); a change to the subscription after it (an admin
re-enabling it, a new rate) restarts the clock. Once it is older than
``subscription_auto_disable_seconds`` the subscription is disabled, audited, and
``subscription.disabled`` is published to the tenant's subscribers of that type.
Publishing happens after the commit; it is retried on later runs for a day and
deduplicated by a producer id derived from the subscription and its disable time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from hub.audit.service import record as audit
from hub.delivery.metrics import AUTO_DISABLED
from hub.events.ingest import publish_internal
from hub.hooks.models import Subscription

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger("hub.delivery")

REASON = "auto-disabled: every delivery attempt failed"
ACTOR = "system:delivery"
REPUBLISH_WINDOW = timedelta(days=1)


async def disable_failing(rt: Runtime) -> list[str]:
    """Disable what has failed long enough; returns their ids."""
    now = rt.clock.now()
    cutoff = now - timedelta(seconds=rt.settings.subscription_auto_disable_seconds)
    disabled: list[str] = []
    async with rt.db.transaction() as session:
        candidates = (
            await session.scalars(
                select(Subscription.id).where(
                    Subscription.status == "active",
                    Subscription.failing_since.is_not(None),
                    Subscription.failing_since <= cutoff,
                    # A change since (a re-enable, a new rate) restarts the clock.
                    Subscription.failing_since >= Subscription.updated_at,
                )
            )
        ).all()
        for sub_id in candidates:
            result = await session.execute(
                update(Subscription)
                .where(
                    Subscription.id == sub_id,
                    Subscription.status == "active",
                    Subscription.failing_since <= cutoff,
                )
                .values(status="disabled", disabled_reason=REASON, updated_at=now)
                .returning(
                    Subscription.tenant_id, Subscription.integration_id, Subscription.failing_since
                )
                .execution_options(synchronize_session=False)
            )
            row = result.first()
            if row is None:
                continue  # a success or an admin got there first
            audit(
                session,
                at=now,
                actor=ACTOR,
                action="subscription.auto_disabled",
                tenant_id=row[0],
                integration_id=row[1],
                target_type="subscription",
                target_id=sub_id,
                details={"failing_since": row[2].isoformat() if row[2] else None},
            )
            disabled.append(sub_id)
    if disabled:  # counted once committed
        AUTO_DISABLED.inc(len(disabled))
    await publish_disabled(rt, now)
    return disabled


def producer_id(subscription_id: str, disabled_at: datetime) -> str:
    return f"subscription.disabled:{subscription_id}:{int(disabled_at.timestamp())}"


async def publish_disabled(rt: Runtime, now: datetime) -> int:
    """Publish ``subscription.disabled`` for recent auto-disables (idempotent)."""
    async with rt.db.session() as session:
        subs = (
            await session.scalars(
                select(Subscription).where(
                    Subscription.status == "disabled",
                    Subscription.disabled_reason == REASON,
                    Subscription.updated_at >= now - REPUBLISH_WINDOW,
                )
            )
        ).all()
    published = 0
    for sub in subs:
        try:
            event_id = await publish_internal(
                rt,
                tenant_id=sub.tenant_id,
                integration_id=sub.integration_id,
                event_type="subscription.disabled",
                producer_id=producer_id(sub.id, sub.updated_at),
                data={
                    "subscription_id": sub.id,
                    "integration_id": sub.integration_id,
                    "event_type": sub.event_type,
                    "reason": REASON,
                    "failing_since": sub.failing_since.isoformat() if sub.failing_since else None,
                    "disabled_at": sub.updated_at.isoformat(),
                },
                sandbox=sub.sandbox,
                occurred_at=sub.updated_at,
            )
        except Exception:
            log.warning("could not publish subscription.disabled; will retry", exc_info=True)
            continue
        if event_id is not None:
            published += 1
    return published
