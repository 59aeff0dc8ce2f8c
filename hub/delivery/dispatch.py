"""Handing committed deliveries to the delivery engine.

Interface other capabilities rely on (keep the signature): call
``enqueue_deliveries`` only AFTER the transaction that created the deliveries has
committed. It never raises on a Redis failure: the sweeper re-finds every due
delivery in Postgres, so a lost hand-off only delays it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hub.delivery import ready
from hub.delivery.lanes import OPEN_STATUSES
from hub.delivery.models import Delivery
from hub.store.driver import pg_driver

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger("hub.delivery")

LOOKUP_CHUNK = 1000


async def enqueue_deliveries(rt: Runtime, delivery_ids: Sequence[str]) -> None:
    """Mark the deliveries' lanes ready and make sure a pump job is coming.

    The lanes are looked up here, in the caller's process, so a worker never
    sorts one tenant's flood before it sees another tenant's single delivery.
    """
    if not delivery_ids:
        return
    try:
        await ready.mark_ready(rt, await _lanes_of(rt, list(delivery_ids)))
        await ready.wake(rt)
    except Exception:
        # Deliberately broad: whatever Redis (or the database, or the network)
        # does, the deliveries are committed and the sweeper will find them.
        log.warning(
            "could not queue deliveries; the sweeper will pick them up",
            extra={"count": len(delivery_ids)},
            exc_info=True,
        )


# On the hand-off hot path (every ingest, every sandbox action) SQLAlchemy's
# statement layer would cost more than the query: Postgres runs it on the driver.
_LANES_PG = (
    "SELECT subscription_id, min(next_attempt_at) FROM deliveries"
    " WHERE id = ANY($1::varchar[]) AND status IN ('pending', 'retrying')"
    " GROUP BY subscription_id"
)


async def _lanes_of(rt: Runtime, ids: list[str]) -> dict[str, datetime]:
    """The subscriptions (lanes) of ``ids`` and when each is first due."""
    lanes: dict[str, datetime] = {}
    if not rt.db.is_sqlite:
        async with pg_driver(rt.db) as conn:
            for sub_id, when in await conn.fetch(_LANES_PG, ids):
                lanes[sub_id] = when
        return lanes
    async with rt.db.session() as session:
        for start in range(0, len(ids), LOOKUP_CHUNK):
            rows = await session.execute(
                select(Delivery.subscription_id, func.min(Delivery.next_attempt_at))
                .where(
                    Delivery.id.in_(ids[start : start + LOOKUP_CHUNK]),
                    Delivery.status.in_(OPEN_STATUSES),
                )
                .group_by(Delivery.subscription_id)
            )
            for sub_id, when in rows:
                if sub_id not in lanes or when < lanes[sub_id]:
                    lanes[sub_id] = when
    return lanes


async def wake_subscriptions(rt: Runtime, subscription_ids: Sequence[str]) -> None:
    """After a commit that made a lane sendable again (resume, re-enable): look now
    rather than at the next sweep. Never raises, for the same reason as above."""
    if not subscription_ids:
        return
    try:
        await ready.mark_ready(rt, dict.fromkeys(subscription_ids, rt.clock.now()))
        await ready.wake(rt)
    except Exception:
        log.warning("could not wake lanes; the sweeper will", exc_info=True)
