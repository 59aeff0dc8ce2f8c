"""The messages channel connectors send, recorded around every provider call.

- ``begin`` records the message before the provider is called, one per action call
  (the Idempotency-Key's record id is unique here): a retry that finds it ``sent``
  answers what was sent instead of sending again; one that finds it ``sending`` (the
  process died while the provider was answering) does not know whether it left.
- ``scheduled`` messages wait for their ``send_after`` (a connector's pacing window);
  the workers send them (``send_due``) and their outcome publishes
  ``message.sent`` / ``message.failed``.
- statuses from the provider find their message again by ``provider_message_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from hub.connectors.models import OutboundMessage

__all__ = ["OutboundMessage"]
from hub.ids import new_id
from hub.runtime import Runtime

log = logging.getLogger("hub.connectors.sends")

SCHEDULED, SENDING, SENT, FAILED = "scheduled", "sending", "sent", "failed"
DUE_BATCH = 100


async def begin(
    rt: Runtime,
    *,
    tenant_id: str,
    integration_id: str,
    connector: str,
    idempotency_id: str,
    recipient: str,
    lead_id: str | None,
    payload: dict[str, Any],
    send_after: datetime | None = None,
) -> tuple[OutboundMessage, bool]:
    """The message of this action call: (recorded now, True) or (the earlier one, False)."""
    now = rt.clock.now()
    row = OutboundMessage(
        id=new_id("message"),
        tenant_id=tenant_id,
        integration_id=integration_id,
        connector=connector,
        idempotency_id=idempotency_id,
        status=SCHEDULED if send_after is not None else SENDING,
        recipient=recipient,
        lead_id=lead_id,
        payload=payload,
        send_after=send_after,
        attempts=0 if send_after is not None else 1,
        created_at=now,
        updated_at=now,
    )
    try:
        async with rt.db.transaction() as session:
            session.add(row)
    except IntegrityError:
        async with rt.db.session() as session:
            existing = (
                await session.scalars(
                    select(OutboundMessage).where(OutboundMessage.idempotency_id == idempotency_id)
                )
            ).one()
        return existing, False
    return row, True


async def _set(rt: Runtime, message_id: str, **values: Any) -> None:
    async with rt.db.transaction() as session:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id)
            .values(updated_at=rt.clock.now(), **values)
        )


async def mark_sent(rt: Runtime, message_id: str, provider_message_id: str) -> None:
    await _set(rt, message_id, status=SENT, provider_message_id=provider_message_id)


async def set_statuses(
    rt: Runtime, tenant_id: str, statuses: Mapping[str, str], keep: Sequence[str] = ()
) -> None:
    """What the provider said of sent messages (e-mail: delivered, bounced, complained),
    a whole batch in one transaction, one statement
    per status; a message whose status is in ``keep`` keeps it (a bounce stays a bounce)."""
    by_status: dict[str, list[str]] = {}
    for message_id, status in statuses.items():
        by_status.setdefault(status, []).append(message_id)
    if not by_status:
        return
    async with rt.db.transaction() as session:
        for status, ids in by_status.items():
            await session.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.tenant_id == tenant_id,
                    OutboundMessage.id.in_(ids),
                    OutboundMessage.status.not_in(list(keep)),
                )
                .values(status=status, updated_at=rt.clock.now())
            )


async def mark_failed(rt: Runtime, message_id: str, error_code: str) -> None:
    await _set(rt, message_id, status=FAILED, error_code=error_code[:64])


async def forget(rt: Runtime, message_id: str) -> None:
    """Nothing left the hub (the provider refused before accepting): the client's retry
    starts afresh."""
    async with rt.db.transaction() as session:
        await session.execute(delete(OutboundMessage).where(OutboundMessage.id == message_id))


async def claim_due(
    rt: Runtime, now: datetime, limit: int = DUE_BATCH
) -> Sequence[OutboundMessage]:
    """Scheduled messages whose time has come, each claimed by one worker only."""
    async with rt.db.session() as session:
        candidates = list(
            await session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.status == SCHEDULED, OutboundMessage.send_after <= now)
                .order_by(OutboundMessage.send_after, OutboundMessage.id)
                .limit(limit)
            )
        )
    claimed = []
    for message in candidates:
        async with rt.db.transaction() as session:
            result = await session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == message.id, OutboundMessage.status == SCHEDULED)
                .values(status=SENDING, attempts=message.attempts + 1, updated_at=now)
            )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            message.status = SENDING
            claimed.append(message)
    return claimed


async def reschedule(rt: Runtime, message_id: str, send_after: datetime) -> None:
    await _set(rt, message_id, status=SCHEDULED, send_after=send_after)


async def by_provider_id(
    rt: Runtime, tenant_id: str, provider_message_ids: Sequence[str]
) -> dict[str, OutboundMessage]:
    """The tenant's messages the provider knows by these ids."""
    if not provider_message_ids:
        return {}
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.tenant_id == tenant_id,
                OutboundMessage.provider_message_id.in_(list(provider_message_ids)),
            )
        )
        return {r.provider_message_id: r for r in rows if r.provider_message_id}


async def by_ids(
    rt: Runtime, tenant_id: str, message_ids: Sequence[str]
) -> dict[str, OutboundMessage]:
    if not message_ids:
        return {}
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.tenant_id == tenant_id, OutboundMessage.id.in_(list(message_ids))
            )
        )
        return {r.id: r for r in rows}


async def leads_of_recipients(
    rt: Runtime, tenant_id: str, connector: str, recipients: Sequence[str]
) -> dict[str, str]:
    """The lead each recipient was last written to about (replies name that lead)."""
    if not recipients:
        return {}
    async with rt.db.session() as session:
        rows = await session.execute(
            select(OutboundMessage.recipient, OutboundMessage.lead_id)
            .where(
                OutboundMessage.tenant_id == tenant_id,
                OutboundMessage.connector == connector,
                OutboundMessage.recipient.in_(list(recipients)),
                OutboundMessage.lead_id.is_not(None),
            )
            .order_by(OutboundMessage.created_at, OutboundMessage.id)
        )
        leads: dict[str, str] = {}
        for recipient, lead_id in rows:
            if lead_id:
                leads[recipient] = lead_id  # the newest wins
        return leads
