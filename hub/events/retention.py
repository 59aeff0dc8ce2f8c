"""Retention: raw event payloads and delivered bodies are personal data with an expiry.

- ``events.data`` (what the producer sent, unsanitized) is cleared once older than
  ``HUB_EVENT_RETENTION_SECONDS`` (7 days). The row stays: its producer id keeps
  deduplicating forever, and deliveries keep their event id.
- ``deliveries.body`` is cleared once older than ``HUB_DELIVERY_BODY_RETENTION_SECONDS``
  (14 days), only for finished deliveries (delivered, dead, cancelled): a body
  still to be sent or retried is never lost. A dead delivery past retention can
  no longer be replayed.

Both run as arq cron jobs, in bounded batches so no statement holds locks long;
they are idempotent (a re-run finds nothing more to clear).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from arq.cron import cron
from sqlalchemy import ColumnElement, null, select, update

from hub.delivery.models import Delivery
from hub.events.metrics import RETENTION_PURGED
from hub.events.models import Event

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger("hub.events")

BATCH = 1000
FINISHED = ("delivered", "dead", "cancelled")


async def _purge(rt: Runtime, column: Any, id_column: Any, where: list[ColumnElement[bool]]) -> int:
    table = column.table
    total = 0
    while True:
        async with rt.db.transaction() as session:
            ids = select(id_column).where(*where).limit(BATCH).scalar_subquery()
            result = await session.execute(
                update(table).where(id_column.in_(ids)).values({column.name: null()})
            )
        purged = int(getattr(result, "rowcount", 0) or 0)
        total += purged
        if purged < BATCH:
            return total


async def purge_event_payloads(rt: Runtime) -> int:
    cutoff = rt.clock.now() - timedelta(seconds=rt.settings.event_retention_seconds)
    n = await _purge(
        rt, Event.data, Event.id, [Event.data.is_not(None), Event.received_at < cutoff]
    )
    RETENTION_PURGED.labels("event_data").inc(n)
    if n:
        log.info("event payloads purged", extra={"count": n})
    return n


async def purge_delivery_bodies(rt: Runtime) -> int:
    cutoff = rt.clock.now() - timedelta(seconds=rt.settings.delivery_body_retention_seconds)
    n = await _purge(
        rt,
        Delivery.body,
        Delivery.id,
        [Delivery.body.is_not(None), Delivery.created_at < cutoff, Delivery.status.in_(FINISHED)],
    )
    RETENTION_PURGED.labels("delivery_body").inc(n)
    if n:
        log.info("delivery bodies purged", extra={"count": n})
    return n


async def purge_event_payloads_job(ctx: dict[str, Any]) -> int:
    return await purge_event_payloads(ctx["rt"])


async def purge_delivery_bodies_job(ctx: dict[str, Any]) -> int:
    return await purge_delivery_bodies(ctx["rt"])


# Every 10 minutes, offset from each other; ``unique`` keeps one run at a time.
CRON_JOBS = (
    cron(purge_event_payloads_job, minute=set(range(3, 60, 10)), unique=True, timeout=600),
    cron(purge_delivery_bodies_job, minute=set(range(8, 60, 10)), unique=True, timeout=600),
)
