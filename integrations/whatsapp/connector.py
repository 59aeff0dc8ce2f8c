"""The WhatsApp connector: ``send_whatsapp_message`` through the tenant's number, and
its provider's webhooks in as ``message.*`` events.

The flow is the same for both providers (``meta.py``, ``evolution.py`` carry only
their wire formats):

1. the recipient (``to``, or the lead's primary phone from its events given only
   ``lead_id``) is normalised to E.164 (422 at ``$.to`` when it is no phone);
2. pacing: outside the tenant's sending window the message is **scheduled** for the
   window's next opening (answered 200 ``scheduled``; the workers send it and its
   outcome publishes ``message.sent`` / ``message.failed``); over the per-minute cap
   429 ``RATE_LIMITED``;
3. the message is recorded (``hub/connectors/sends.py``) before the provider is called
   and after it answered, one per action call: a retry that finds it sent answers what
   was sent; one that finds it mid-send (the process died while the provider answered)
   never resends — it answers ``queued``, and Meta's status webhook ties the message
   back by the id echoed in ``biz_opaque_callback_data``;
4. a sent message publishes ``message.sent``.

Inbound, the provider verifies and reads the webhook; statuses are then tied back to
the message the hub sent (its id, its lead), and replies name the lead the hub last
wrote to from that number.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx

from hub.actions.handlers import ActionCall, ActionFailed, ActionRejected
from hub.actions.lead_engine.messages import MessageOutput, SendWhatsAppMessageInput
from hub.connectors import sends
from hub.connectors.health import mark_failing
from hub.connectors.models import OutboundMessage
from hub.connectors.pacing import charge, check_window, next_opening
from hub.connectors.protocol import (
    Connector,
    CredentialsRejected,
    InboundEvent,
    InboundReply,
    InboundRequest,
)
from hub.events.contacts import lead_phone
from hub.events.ingest import publish_internal
from hub.runtime import Runtime
from hub.security import targets
from hub.web.errors import FieldError
from integrations.whatsapp.config import SECRET_FIELDS, EvolutionConfig, MetaConfig, WhatsAppConfig
from integrations.whatsapp.evolution import EvolutionProvider, connection_state
from integrations.whatsapp.meta import MetaProvider
from integrations.whatsapp.phones import normalized
from integrations.whatsapp.provider import Outgoing, Provider

log = logging.getLogger("hub.integrations.whatsapp")

USER_AGENT = "hub-whatsapp/1"
STATUS_TYPES = frozenset({"message.delivered", "message.read", "message.failed"})


def _disconnected(config: EvolutionConfig, body: bytes) -> bool:
    """Whether Evolution says the configured instance lost its WhatsApp session."""
    try:
        decoded = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(decoded, dict)
        and decoded.get("instance") == config.instance
        and connection_state(decoded) == "close"
    )


def _account(config: WhatsAppConfig) -> str:
    return config.phone_number_id if isinstance(config, MetaConfig) else config.instance


class WhatsAppConnector(Connector[WhatsAppConfig]):
    name = "whatsapp"
    kind = "whatsapp"
    title = "WhatsApp (Meta Cloud API or Evolution API)"
    config_type = WhatsAppConfig
    secret_fields = SECRET_FIELDS
    actions = frozenset({"send_whatsapp_message"})
    inbound = True

    def __init__(
        self,
        providers: Mapping[str, Provider] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.providers: Mapping[str, Provider] = providers or {
            "meta": MetaProvider(),
            "evolution": EvolutionProvider(),
        }
        self.client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    def _provider(self, config: WhatsAppConfig) -> Provider:
        return self.providers["meta" if isinstance(config, MetaConfig) else "evolution"]

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- configuration -----------------------------------------------------------------

    async def validate(self, rt: Runtime, config: WhatsAppConfig) -> None:
        if isinstance(config, MetaConfig):
            await targets.check_target_url(config.graph_url, rt.settings, path="$.config.graph_url")
        else:
            await targets.check_target_url(config.base_url, rt.settings, path="$.config.base_url")
        check_window(config.pacing.window, "$.config.pacing.window")

    # -- outbound ----------------------------------------------------------------------

    async def handle(self, rt: Runtime, config: WhatsAppConfig, call: ActionCall) -> Any:
        inputs: SendWhatsAppMessageInput = call.inputs
        given = inputs.to
        if given is None and inputs.lead_id is not None:
            given = await lead_phone(rt, call.tenant_id, inputs.lead_id)
            if given is None:
                raise ActionRejected(
                    "no phone is known for this lead: send `to`",
                    errors=[
                        FieldError(
                            path="$.to",
                            message="required: the lead's events carry no usable phone",
                        )
                    ],
                )
        to = normalized(given or "")
        if to is None:
            raise ActionRejected(
                "the recipient is not a phone number",
                errors=[FieldError(path="$.to", message="not a possible phone number (E.164)")],
            )
        send_after = next_opening(rt.clock.now(), config.pacing.window)
        if send_after is None:
            await charge(
                rt,
                rt.keys.custom("whatsapp", "rate", call.tenant_id),
                config.pacing.per_minute,
            )
        message, created = await sends.begin(
            rt,
            tenant_id=call.tenant_id,
            integration_id=call.integration_id,
            connector=self.name,
            idempotency_id=call.idempotency_id,
            recipient=to,
            lead_id=inputs.lead_id,
            payload={
                "channel": "whatsapp",
                "text": inputs.text,
                "template": inputs.template,
                "variables": dict(inputs.variables),
                "language": inputs.language,
                "idempotency_key": call.idempotency_key,
            },
            send_after=send_after,
        )
        if not created:
            return await self._again(rt, config, message)
        if send_after is not None:
            return MessageOutput(
                message_id=message.id, channel="whatsapp", status="scheduled", send_after=send_after
            )
        try:
            return await self._send(rt, config, message)
        except ActionRejected:
            await sends.mark_failed(rt, message.id, "rejected")
            raise
        except ActionFailed as failed:
            if failed.code != "UPSTREAM_TIMEOUT":
                # The provider did not take it: the client's retry starts afresh.
                await sends.forget(rt, message.id)
            raise  # a timeout stays "sending": whether it left is not known

    async def _again(
        self, rt: Runtime, config: WhatsAppConfig, message: OutboundMessage
    ) -> MessageOutput:
        """A retry of an action call whose message is already recorded."""
        if message.status == sends.SENT:
            return MessageOutput(message_id=message.id, channel="whatsapp", status="sent")
        if message.status == sends.SCHEDULED:
            return MessageOutput(
                message_id=message.id,
                channel="whatsapp",
                status="scheduled",
                send_after=message.send_after,
            )
        if message.status == sends.FAILED:
            raise ActionRejected(
                "this message was refused by the provider earlier",
                extra={"error_code": message.error_code},
            )
        # The process died while the provider answered: it may have sent it. Neither
        # provider dedupes a resend, so never risk a second message: Meta's status
        # webhook settles it (our id comes back in biz_opaque_callback_data).
        return MessageOutput(message_id=message.id, channel="whatsapp", status="queued")

    async def _send(
        self, rt: Runtime, config: WhatsAppConfig, message: OutboundMessage
    ) -> MessageOutput:
        payload = message.payload
        provider = self._provider(config)
        sent = await provider.send(
            self.client,
            rt.settings,
            config,
            Outgoing(
                message_id=message.id,
                to=message.recipient,
                text=payload.get("text"),
                template=payload.get("template"),
                language=payload.get("language") or "pt_BR",
                variables=payload.get("variables") or {},
                idempotency_key=payload.get("idempotency_key") or message.idempotency_id,
            ),
        )
        await sends.mark_sent(rt, message.id, sent.provider_message_id)
        await self._publish(
            rt, config, message, "message.sent", provider.name, sent.provider_message_id
        )
        return MessageOutput(message_id=message.id, channel="whatsapp", status="sent")

    async def _publish(
        self,
        rt: Runtime,
        config: WhatsAppConfig,
        message: OutboundMessage,
        event_type: str,
        provider: str,
        provider_message_id: str | None,
        error: tuple[str, str] | None = None,
    ) -> None:
        payload = message.payload
        data: dict[str, Any] = {
            "message_id": message.id,
            "channel": "whatsapp",
            "direction": "outbound",
            "contact_phone": message.recipient,
            "body": payload.get("text") or "",
            "template": payload.get("template"),
            "provider": provider,
            "provider_message_id": provider_message_id,
        }
        if message.lead_id:
            data["lead"] = {"lead_id": message.lead_id}
        if error is not None:
            data.update(error_code=error[0], error_message=error[1], attempts=message.attempts)
        await publish_internal(
            rt,
            tenant_id=message.tenant_id,
            integration_id=message.integration_id,
            event_type=event_type,
            producer_id=f"whatsapp:{_account(config)}:{event_type}:{message.id}",
            data=data,
            sandbox=False,
        )

    async def send_scheduled(
        self, rt: Runtime, config: WhatsAppConfig, message: OutboundMessage
    ) -> None:
        """A deferred message, now: sent, refused (``message.failed``) or rescheduled."""
        reopening = next_opening(rt.clock.now(), config.pacing.window)
        if reopening is not None:  # the window moved since: wait for it
            await sends.reschedule(rt, message.id, reopening)
            return
        try:
            await self._send(rt, config, message)
        except CredentialsRejected:
            raise  # the workers mark the connector failing and fail the message
        except ActionRejected as rejected:
            code = str(rejected.extra.get("provider_code") or "rejected")
            await sends.mark_failed(rt, message.id, code)
            await self._publish(
                rt,
                config,
                message,
                "message.failed",
                self._provider(config).name,
                None,
                error=(code, rejected.detail[:500]),
            )
        except ActionFailed as failed:
            if failed.code != "UPSTREAM_TIMEOUT":
                delay = timedelta(seconds=max(1, failed.retry_after or 60))
                await sends.reschedule(rt, message.id, rt.clock.now() + delay)
            # A timeout stays "sending": the status webhook tells whether it left.

    # -- inbound -----------------------------------------------------------------------

    async def receive(
        self, rt: Runtime, config: WhatsAppConfig, request: InboundRequest
    ) -> InboundReply:
        reply = await self._provider(config).receive(config, request)  # verified from here
        if isinstance(config, EvolutionConfig) and _disconnected(config, request.body):
            await mark_failing(
                rt,
                tenant_id=request.tenant_id,
                connector=self.name,
                connector_id=request.connector_id,
                reason="the Evolution instance disconnected from WhatsApp (connection.update: "
                "close): reconnect it (QR code), then save the configuration",
            )
        if not reply.events:
            return reply
        events = await self._tied_back(rt, request.tenant_id, reply.events)
        return dataclasses.replace(reply, events=events)

    async def _tied_back(
        self, rt: Runtime, tenant_id: str, events: Sequence[InboundEvent]
    ) -> list[InboundEvent]:
        """Statuses name the hub's message and its lead; replies the lead last written to."""
        statuses = [e for e in events if e.type in STATUS_TYPES]
        by_id = await sends.by_ids(rt, tenant_id, [str(e.data.get("message_id")) for e in statuses])
        by_provider = await sends.by_provider_id(
            rt, tenant_id, [str(e.data.get("provider_message_id")) for e in statuses]
        )
        replies = [e for e in events if e.type == "message.received"]
        leads = await sends.leads_of_recipients(
            rt, tenant_id, self.name, [str(e.data.get("contact_phone")) for e in replies]
        )
        out: list[InboundEvent] = []
        for event in events:
            data = dict(event.data)
            if event.type in STATUS_TYPES:
                message = by_id.get(str(data.get("message_id"))) or by_provider.get(
                    str(data.get("provider_message_id"))
                )
                if message is not None:
                    data["message_id"] = message.id
                    if message.lead_id:
                        data["lead"] = {"lead_id": message.lead_id}
                    await self._reconcile(rt, message, event.type, data)
            elif event.type == "message.received":
                lead_id = leads.get(str(data.get("contact_phone")))
                if lead_id and not data.get("lead"):
                    data["lead"] = {"lead_id": lead_id}
            out.append(
                InboundEvent(type=event.type, id=event.id, data=data, occurred_at=event.occurred_at)
            )
        return out

    async def _reconcile(
        self, rt: Runtime, message: OutboundMessage, event_type: str, data: dict[str, Any]
    ) -> None:
        """A message whose send answer was lost learns its outcome from its status."""
        if message.status != sends.SENDING:
            return
        provider_id = data.get("provider_message_id")
        if event_type == "message.failed":
            await sends.mark_failed(rt, message.id, str(data.get("error_code") or "failed"))
        elif isinstance(provider_id, str) and provider_id:
            await sends.mark_sent(rt, message.id, provider_id)
