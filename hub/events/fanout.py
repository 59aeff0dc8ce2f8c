"""The outbox fan-out: a pending delivery per (new event, matching subscription).

Runs inside the ingest transaction, so an event is never stored without its
deliveries nor the reverse. Which subscriptions an event reaches is the store's
query (``hub/store/subscribers.py``); what each of them receives is decided here:
each body is sanitized once per event and effective policy, then shared by every
subscription with that policy, and handed to the delivery capability, which builds
the outbox rows (``hub/delivery/outbox.py``). Nothing here sends HTTP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.delivery.outbox import NewDeliveries, insert_deliveries
from hub.events.body import delivered_body
from hub.sanitize import default_policies, pseudonymizer_for
from hub.sanitize.metrics import SanitizeTally
from hub.store.subscribers import Subscriber, subscribers_of_types

if TYPE_CHECKING:
    from hub.events.ingest import NewEvent
    from hub.runtime import Runtime

log = logging.getLogger("hub.events")


@dataclass
class FanOut:
    deliveries: NewDeliveries = field(default_factory=NewDeliveries)
    sanitized: SanitizeTally = field(default_factory=SanitizeTally)


async def fan_out(
    rt: Runtime,
    session: AsyncSession,
    *,
    tenant_id: str,
    sandbox: bool,
    events: Sequence[tuple[str, NewEvent]],
    now: datetime,
) -> FanOut:
    if not events:
        return FanOut()
    subscribers = await subscribers_of_types(
        session, tenant_id, sandbox, {e.type for _, e in events}
    )
    rows, out = delivery_rows(
        rt, tenant_id=tenant_id, sandbox=sandbox, events=events, subscribers=subscribers, now=now
    )
    await insert_deliveries(session, rows)
    return out


def delivery_rows(
    rt: Runtime,
    *,
    tenant_id: str,
    sandbox: bool,
    events: Sequence[tuple[str, NewEvent]],
    subscribers: dict[str, list[Subscriber]],
    now: datetime,
) -> tuple[list[dict[str, Any]], FanOut]:
    """The outbox rows for ``events`` (subscribers by event type, in id order): every
    body sanitized by its subscription's effective policy. Both ingest paths use it."""
    out = FanOut()
    if not subscribers:
        return [], out
    with rt.tracing.span("hub.events.fan_out", attributes={"hub.events": len(events)}) as span:
        # Each row carries this span's context: the attempts, sent later by a worker,
        # become its children (hub/tracing.py).
        out.deliveries.trace_parent = rt.tracing.traceparent()
        _sanitize_for_each(rt, out, tenant_id, sandbox, events, subscribers, now)
        if span is not None:
            span.set_attribute("hub.deliveries", len(out.deliveries.ids))
    return out.deliveries.rows, out


def _sanitize_for_each(
    rt: Runtime,
    out: FanOut,
    tenant_id: str,
    sandbox: bool,
    events: Sequence[tuple[str, NewEvent]],
    subscribers: dict[str, list[Subscriber]],
    now: datetime,
) -> None:
    policies = default_policies()
    pseudonymizer = pseudonymizer_for(rt.hasher, tenant_id)
    for event_id, event in events:
        bodies: dict[str, bytes] = {}  # effective policy version -> body
        for sub in subscribers.get(event.type, ()):
            policy = policies.for_integration(event.type, sub.policy_overrides)
            if policy is None:  # no policy, or an override that no longer fits: fail closed
                log.warning(
                    "delivery withheld: no usable policy",
                    extra={"event_type": event.type, "subscription_id": sub.id},
                )
                continue
            body = bodies.get(policy.version)
            if body is None:
                started = time.perf_counter()
                body = delivered_body(
                    policy,
                    pseudonymizer,
                    event_id=event_id,
                    event_type=event.type,
                    occurred_at=event.occurred_at,
                    data=event.data,
                    sandbox=sandbox,
                )
                out.sanitized.add(policy, time.perf_counter() - started)
                bodies[policy.version] = body
            out.deliveries.add(
                sub,
                tenant_id=tenant_id,
                sandbox=sandbox,
                event_id=event_id,
                event_type=event.type,
                body=body,
                policy_version=policy.version,
                now=now,
            )
