"""The outbox fan-out: a pending delivery per (new event, matching subscription).

Runs inside the ingest transaction, so an event is never stored without its
deliveries nor the reverse. A subscription matches when it is active, belongs
to the event's tenant and type, its integration is active, and it is on the
same side of the sandbox line as the event (sandbox events reach only sandbox
integrations' subscriptions; live ones only live ones).

Each body is sanitized once per event and effective policy, then shared by every
subscription with that policy; nothing here sends HTTP.
"""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.delivery.models import Delivery
from hub.events.body import delivered_body
from hub.hooks.models import Subscription
from hub.ids import new_id
from hub.sanitize import default_policies, pseudonymizer_for
from hub.sanitize.metrics import SanitizeTally
from hub.tenancy.models import Integration

if TYPE_CHECKING:
    from hub.events.ingest import NewEvent
    from hub.runtime import Runtime

log = logging.getLogger("hub.events")


@dataclass
class FanOut:
    delivery_ids: list[str] = field(default_factory=list)
    per_type: Tally[str] = field(default_factory=Tally)
    sanitized: SanitizeTally = field(default_factory=SanitizeTally)


class Subscriber(NamedTuple):
    id: str
    integration_id: str
    event_type: str
    policy_overrides: Any


_MATCHING = select(
    Subscription.id,
    Subscription.integration_id,
    Subscription.event_type,
    Integration.policy_overrides,
).join(Integration, Integration.id == Subscription.integration_id)


def _matching(tenant_id: Any, sandbox: Any) -> Any:
    return _MATCHING.where(
        Subscription.tenant_id == tenant_id,
        Subscription.status == "active",
        Subscription.sandbox == sandbox,
        Integration.status == "active",
    )


# The subscriptions one event type reaches, for the single-event Postgres path
# (``hub/store/outbox.py``): the same query, with bind parameters tenant_id, sandbox, type.
SUBSCRIBERS_OF_TYPE = _matching(bindparam("tenant_id"), bindparam("sandbox")).where(
    Subscription.event_type == bindparam("event_type")
)


async def _subscribers(
    session: AsyncSession, tenant_id: str, sandbox: bool, types: set[str]
) -> dict[str, list[Subscriber]]:
    rows = await session.execute(
        _matching(tenant_id, sandbox)
        .where(Subscription.event_type.in_(sorted(types)))
        .order_by(Subscription.id)
    )
    by_type: dict[str, list[Subscriber]] = defaultdict(list)
    for row in rows:
        by_type[row.event_type].append(Subscriber(*row))
    return by_type


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
    subscribers = await _subscribers(session, tenant_id, sandbox, {e.type for _, e in events})
    rows, out = delivery_rows(
        rt, tenant_id=tenant_id, sandbox=sandbox, events=events, subscribers=subscribers, now=now
    )
    if rows:
        # One executemany (batched multi-row VALUES), not an ORM add per row.
        await session.execute(insert(cast(Table, Delivery.__table__)), rows)
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
    policies = default_policies()
    pseudonymizer = pseudonymizer_for(rt.hasher, tenant_id)
    rows: list[dict[str, Any]] = []
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
            delivery_id = new_id("delivery")
            rows.append(
                {
                    "id": delivery_id,
                    "tenant_id": tenant_id,
                    "integration_id": sub.integration_id,
                    "subscription_id": sub.id,
                    "event_id": event_id,
                    "event_type": event.type,
                    "sandbox": sandbox,
                    "body": body,
                    "policy_version": policy.version,
                    "status": "pending",
                    "attempt_count": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "event_received_at": now,
                    "replay_count": 0,
                }
            )
            out.delivery_ids.append(delivery_id)
            out.per_type[event.type] += 1
    return rows, out
