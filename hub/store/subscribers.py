"""The subscriptions an event reaches, queried for both ingest paths.

A subscription matches when it is active, belongs to the event's tenant and type,
its integration is active, and it is on the same side of the sandbox line as the
event (sandbox events reach only sandbox integrations' subscriptions; live ones
only live ones). Nothing is cached: a subscription committed before the publish
starts is always seen.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.hooks.models import Subscription
from hub.tenancy.models import Integration


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


# The subscriptions one event type reaches, for the single-event store
# (``hub/store/outbox.py``): the same query, with bind parameters tenant_id, sandbox, type.
SUBSCRIBERS_OF_TYPE = _matching(bindparam("tenant_id"), bindparam("sandbox")).where(
    Subscription.event_type == bindparam("event_type")
)


async def subscribers_of_types(
    session: AsyncSession, tenant_id: str, sandbox: bool, types: set[str]
) -> dict[str, list[Subscriber]]:
    """The matching subscriptions of each of ``types``, in id order."""
    rows = await session.execute(
        _matching(tenant_id, sandbox)
        .where(Subscription.event_type.in_(sorted(types)))
        .order_by(Subscription.id)
    )
    by_type: dict[str, list[Subscriber]] = defaultdict(list)
    for row in rows:
        by_type[row.event_type].append(Subscriber(*row))
    return by_type
