"""Sending the messages connectors deferred (pacing windows), once their time has come."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from arq import cron

from hub.connectors import sends
from hub.connectors.health import mark_failing
from hub.connectors.protocol import ConnectorRegistry, ConnectorUnusable
from hub.connectors.service import configured_by_name
from hub.events.ingest import publish_internal
from hub.runtime import Runtime
from hub.store.driver import DATABASE_ERRORS

log = logging.getLogger("hub.connectors")

CONNECTORS = "connectors"  # the worker's ctx key of the hub's ConnectorRegistry
RETRY_LATER = timedelta(minutes=1)


async def _gone(rt: Runtime, message: sends.OutboundMessage, why: str) -> None:
    """The connector was removed, disabled or is failing: the message fails, said once."""
    await sends.mark_failed(rt, message.id, why)
    await publish_internal(
        rt,
        tenant_id=message.tenant_id,
        integration_id=message.integration_id,
        event_type="message.failed",
        producer_id=f"{message.connector}:failed:{message.id}",
        data={
            "message_id": message.id,
            **({"lead": {"lead_id": message.lead_id}} if message.lead_id else {}),
            "channel": message.payload.get("channel", "whatsapp"),
            "direction": "outbound",
            "contact_phone": message.recipient if message.recipient.startswith("+") else None,
            "body": message.payload.get("text") or "",
            "template": message.payload.get("template"),
            "provider": message.connector,
            "error_code": why,
            "attempts": message.attempts,
        },
        sandbox=False,
    )


async def send_due(rt: Runtime, registry: ConnectorRegistry) -> int:
    """Send every scheduled message that is due; returns how many were attempted."""
    attempted = 0
    for message in await sends.claim_due(rt, rt.clock.now()):
        attempted += 1
        connector = registry.get(message.connector)
        configured = (
            await configured_by_name(rt, registry, message.tenant_id, message.connector)
            if connector is not None
            else None
        )
        if configured is None:
            await _gone(rt, message, "connector_removed")
            continue
        if configured.failing_reason is not None:
            await _gone(rt, message, "connector_failing")
            continue
        try:
            await configured.connector.send_scheduled(rt, configured.config, message)
        except ConnectorUnusable as refused:
            await mark_failing(
                rt,
                tenant_id=message.tenant_id,
                connector=message.connector,
                connector_id=configured.row_id,
                reason=refused.reason,
            )
            await _gone(rt, message, "connector_failing")
        except DATABASE_ERRORS:
            raise
        except Exception:
            # The connector records what it knows; anything else waits for the next run.
            log.exception(
                "a scheduled message could not be sent", extra={"connector": message.connector}
            )
            await sends.reschedule(rt, message.id, rt.clock.now() + RETRY_LATER)
    return attempted


async def send_scheduled_messages(ctx: dict[str, Any]) -> int:
    """arq cron job: every minute (a claimed message is sent by one worker only)."""
    return await send_due(ctx["rt"], ctx[CONNECTORS])


SEND_SCHEDULED_CRON = cron(
    send_scheduled_messages, name="cron:connectors_send_scheduled", second=5, timeout=120
)
CRON_JOBS = (SEND_SCHEDULED_CRON,)
