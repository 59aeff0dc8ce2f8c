"""Handing committed deliveries to the delivery engine.

Interface other capabilities rely on (keep the signature): call
``enqueue_deliveries`` only AFTER the transaction that created the deliveries has
committed. It never raises on a Redis failure: the sweeper re-finds every due
delivery in Postgres, so a lost hand-off only delays it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hub.delivery import ready

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger("hub.delivery")


async def enqueue_deliveries(rt: Runtime, delivery_ids: Sequence[str]) -> None:
    """Mark the deliveries' lanes ready and make sure a pump job is coming.

    The lanes are looked up here, in the caller's process, so a worker never
    sorts one tenant's flood before it sees another tenant's single delivery.
    """
    if not delivery_ids:
        return
    try:
        # The open ones' lanes (hub/store/lanes.py: one statement on Postgres).
        await ready.mark_ready(rt, await rt.stores.lanes.first_due(delivery_ids))
        await ready.wake(rt)
    except Exception:
        # Deliberately broad: whatever Redis (or the database, or the network)
        # does, the deliveries are committed and the sweeper will find them.
        log.warning(
            "could not queue deliveries; the sweeper will pick them up",
            extra={"count": len(delivery_ids)},
            exc_info=True,
        )


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
