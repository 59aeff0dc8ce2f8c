"""Creating the outbox: a delivery row per (new event, matching subscription).

The events side decides which subscriptions a new event reaches and sanitizes its
body once per effective policy (``hub/events/fanout.py``); each subscription's
sanitized body is handed over here, and the rest of the row is delivery's: its id
(also the ``webhook-id``), its lane (the subscription) and its initial state —
pending, no attempt yet, due at once, never replayed. Both ingest paths build their
rows here: the batch path inserts them in the ingest transaction
(``insert_deliveries``), the single-event path hands them to the backend's outbox
store (``hub/store/outbox.py``). Nothing here sends HTTP.
"""

from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.delivery.models import Delivery
from hub.ids import new_id
from hub.store.subscribers import Subscriber

_DELIVERIES = cast(Table, Delivery.__table__)


@dataclass
class NewDeliveries:
    """The outbox rows of one ingest, in the order they were handed over."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    per_type: Tally[str] = field(default_factory=Tally)
    # The W3C traceparent the rows carry (hub/tracing.py); None while tracing is off.
    trace_parent: str | None = None

    def add(
        self,
        subscriber: Subscriber,
        *,
        tenant_id: str,
        sandbox: bool,
        event_id: str,
        event_type: str,
        body: bytes,
        policy_version: str,
        now: datetime,
    ) -> str:
        """A delivery of ``body`` (sanitized by ``policy_version``) to ``subscriber``,
        ready to be sent; returns its id."""
        delivery_id = new_id("delivery")
        self.rows.append(
            {
                "id": delivery_id,
                "tenant_id": tenant_id,
                "integration_id": subscriber.integration_id,
                "subscription_id": subscriber.id,  # its lane
                "event_id": event_id,
                "event_type": event_type,
                "sandbox": sandbox,
                "body": body,
                "policy_version": policy_version,
                "status": "pending",
                "attempt_count": 0,
                "next_attempt_at": now,
                "created_at": now,
                "event_received_at": now,
                "replay_count": 0,
                "trace_parent": self.trace_parent,
            }
        )
        self.ids.append(delivery_id)
        self.per_type[event_type] += 1
        return delivery_id


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Store ``rows`` in the caller's transaction."""
    if rows:
        # One executemany (batched multi-row VALUES), not an ORM add per row.
        await session.execute(insert(_DELIVERIES), rows)
