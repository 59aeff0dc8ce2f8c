"""Samples for Zapier's ``performList`` and Make's sample: the tenant's latest real
events of a type, exactly as a delivery to the asking integration would carry
them (same function, same policy and override, same side of the sandbox line),
newest first; the catalog's sample, sanitized the same way, when there are none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select

from hub.events.body import delivered_body, typed_data
from hub.events.catalog import EVENT_TYPES
from hub.events.models import Event
from hub.sanitize import CompiledPolicy, Pseudonymizer, default_policies, pseudonymizer_for
from hub.web.errors import ProblemError

if TYPE_CHECKING:
    from hub.runtime import Runtime
    from hub.tenancy.auth import IntegrationPrincipal

MAX_SAMPLES = 100
SAMPLE_OCCURRED_AT = datetime(2025, 11, 26, 21, 0, tzinfo=UTC)
# The static samples' (catalog, Zapier, Make) ``hash`` key: no tenant's, so a static
# pseudonym matches nothing real.
_STATIC_PSEUDONYMS = Pseudonymizer(b"hub.catalog.sample")


def sample_event_id(event_type: str) -> str:
    """Stable, so a platform that dedupes on ``id`` shows the catalog sample once."""
    return "evt_sample_" + event_type.replace(".", "_")


def catalog_sample(
    event_type: str,
    policy: CompiledPolicy,
    pseudonymizer: Pseudonymizer = _STATIC_PSEUDONYMS,
    *,
    sandbox: bool = False,
) -> bytes:
    """The catalog's sample of ``event_type`` as ``policy`` delivers it."""
    entry = EVENT_TYPES[event_type]
    return delivered_body(
        policy,
        pseudonymizer,
        event_id=sample_event_id(event_type),
        event_type=event_type,
        occurred_at=SAMPLE_OCCURRED_AT,
        data=msgspec.convert(entry.sample, entry.data_type),
        sandbox=sandbox,
    )


async def samples(
    rt: Runtime, principal: IntegrationPrincipal, event_type: str, limit: int
) -> bytes:
    """A JSON array of delivered bodies."""
    catalog_entry = EVENT_TYPES.get(event_type)
    policy = default_policies().for_integration(event_type, principal.policy_overrides)
    if catalog_entry is None or policy is None:
        raise ProblemError("NOT_FOUND", "no such event type, or none that can be delivered")
    pseudonymizer = pseudonymizer_for(rt.hasher, principal.tenant_id)
    async with rt.db.session() as session:
        rows = await session.execute(
            select(Event.id, Event.occurred_at, Event.data)
            .where(
                Event.tenant_id == principal.tenant_id,
                Event.type == event_type,
                Event.sandbox == principal.sandbox,
                Event.data.is_not(None),
            )
            .order_by(Event.received_at.desc(), Event.id.desc())
            .limit(max(1, min(limit, MAX_SAMPLES)))
        )
        found = rows.all()
    bodies = []
    for event_id, occurred_at, stored in found:
        data = typed_data(policy, stored)
        if data is None:  # stored before the Struct changed incompatibly
            continue
        bodies.append(
            delivered_body(
                policy,
                pseudonymizer,
                event_id=event_id,
                event_type=event_type,
                occurred_at=occurred_at,
                data=data,
                sandbox=principal.sandbox,
            )
        )
    if not bodies:  # the catalog's sample, with the tenant's pseudonyms and sandbox flag
        bodies.append(catalog_sample(event_type, policy, pseudonymizer, sandbox=principal.sandbox))
    return b"[" + b",".join(bodies) + b"]"
