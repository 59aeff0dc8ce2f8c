"""A lead's contact details as the product last published them (its ``lead.created`` /
``lead.updated`` events, raw, within event retention): what lets the tenant's own
channel message a lead whose number a zap only ever saw masked.

The number is used inside the hub, for the tenant's own send; it never leaves toward
Zapier or Make (deliveries stay sanitized).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.events.models import Event
from hub.runtime import Runtime

LEAD_EVENT_TYPES = ("lead.created", "lead.updated")
_LOOKBACK = 20  # the newest events of the lead that are read to find a phone


def _phone_of(data: Any) -> str | None:
    """The primary phone fit for outreach, else the first fit one, else None."""
    contact = data.get("contact") if isinstance(data, dict) else None
    phones = contact.get("phones") if isinstance(contact, dict) else None
    if not isinstance(phones, list):
        return None
    usable = [
        p
        for p in phones
        if isinstance(p, dict)
        and isinstance(p.get("number"), str)
        and p.get("valid_for_outreach", True) is not False
    ]
    primary = [p for p in usable if p.get("primary")]
    chosen = primary or usable
    return str(chosen[0]["number"]) if chosen else None


async def lead_phone(rt: Runtime, tenant_id: str, lead_id: str) -> str | None:
    """The lead's phone from its newest event that carries one (None: none known)."""
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(Event.data)
            .where(
                Event.tenant_id == tenant_id,
                Event.type.in_(LEAD_EVENT_TYPES),
                Event.sandbox.is_(False),
                Event.data.is_not(None),
                Event.data["lead_id"].as_string() == lead_id,
            )
            .order_by(Event.received_at.desc(), Event.id.desc())
            .limit(_LOOKBACK)
        )
        for data in rows:
            phone = _phone_of(data)
            if phone is not None:
                return phone
    return None
