"""The e-mail connector: ``send_email`` through the tenant's provider (Amazon SES,
SendGrid, Mailgun or SMTP), and the provider's lifecycle webhooks in as ``email.*``.

The flow every provider shares (``ses.py``, ``sendgrid.py``, ``mailgun.py``,
``smtp.py`` carry only their wire formats):

1. the suppression list: a recipient that hard-bounced or complained is refused, 422
   ``RECIPIENT_SUPPRESSED`` (the key released: it passes once an admin clears it);
2. pacing (a sending window: outside it the message is scheduled) and the reputation
   guards (limits per tenant, domain and recipient, a daily quota: 429);
3. the message is built once (RFC 5322, the hub's ``Message-ID``) and recorded before
   the provider is called and after it answered, one per action call, so a retry never
   makes a second provider call;
4. a sent e-mail publishes ``email.sent`` and is audited (provider, template id and
   version, status, correlation id).

Inbound, the provider verifies and reads the webhook; the hub ties each event back to
its message and lead, suppresses hard-bounced and complaining addresses, and opens the
connector's breaker when the tenant's bounce or complaint rate passes its threshold.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx
import msgspec

from hub.actions.handlers import ActionCall, ActionFailed, ActionRejected
from hub.actions.lead_engine.messages import MessageOutput, SendEmailInput
from hub.audit.service import record
from hub.connectors import sends, suppressions
from hub.connectors.health import mark_failing
from hub.connectors.models import OutboundMessage
from hub.connectors.pacing import check_window, next_opening
from hub.connectors.protocol import (
    Connector,
    ConnectorUnusable,
    InboundEvent,
    InboundReply,
    InboundRequest,
)
from hub.events.ingest import publish_internal
from hub.runtime import Runtime
from hub.security import targets
from hub.web.errors import FieldError, ProblemError
from integrations.email import message as rfc822
from integrations.email import reputation
from integrations.email.config import (
    SECRET_FIELDS,
    EmailConfig,
    MailgunConfig,
    SendGridConfig,
    SesConfig,
    SmtpConfig,
)
from integrations.email.mailgun import MailgunProvider
from integrations.email.provider import EmailProvider, OutgoingEmail
from integrations.email.sendgrid import SendGridProvider
from integrations.email.ses import SesProvider
from integrations.email.smtp import SmtpProvider

log = logging.getLogger("hub.integrations.email")

USER_AGENT = "hub-email/1"
# What a lifecycle event means for the message's record (the breaker counts these).
OUTCOMES = {
    "email.delivered": reputation.DELIVERED,
    "email.bounced": reputation.BOUNCED,
    "email.complained": reputation.COMPLAINED,
    "email.rejected": sends.FAILED,
}


def provider_of(config: EmailConfig) -> str:
    if isinstance(config, SesConfig):
        return "ses"
    if isinstance(config, SendGridConfig):
        return "sendgrid"
    if isinstance(config, MailgunConfig):
        return "mailgun"
    return "smtp"


def _suppression_reason(event_type: str, data: Mapping[str, Any]) -> str | None:
    """Hard bounces and complaints keep the address from every later send."""
    if event_type == "email.complained":
        return "complaint"
    if event_type == "email.bounced" and data.get("bounce_type") == "hard":
        return "hard_bounce"
    return None


class EmailConnector(Connector[EmailConfig]):
    name = "email"
    kind = "email"
    title = "E-mail (Amazon SES, SendGrid, Mailgun or SMTP)"
    config_type = EmailConfig
    secret_fields = SECRET_FIELDS
    actions = frozenset({"send_email"})
    inbound = True

    def __init__(
        self,
        providers: Mapping[str, EmailProvider] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.providers: Mapping[str, EmailProvider] = providers or {
            "ses": SesProvider(),
            "sendgrid": SendGridProvider(),
            "mailgun": MailgunProvider(),
            "smtp": SmtpProvider(),
        }
        self.client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    def _provider(self, config: EmailConfig) -> EmailProvider:
        return self.providers[provider_of(config)]

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- configuration -----------------------------------------------------------------

    async def validate(self, rt: Runtime, config: EmailConfig) -> None:
        if isinstance(config, SesConfig) and config.endpoint_url:
            await targets.check_target_url(
                config.endpoint_url, rt.settings, path="$.config.endpoint_url"
            )
        elif isinstance(config, SendGridConfig | MailgunConfig):
            await targets.check_target_url(config.api_url, rt.settings, path="$.config.api_url")
        elif isinstance(config, SmtpConfig):
            try:
                await targets.resolve_allowed(config.host, config.port, rt.settings)
            except ProblemError as refused:
                raise ProblemError(
                    "TARGET_NOT_ALLOWED",
                    "the SMTP host is not allowed",
                    errors=[FieldError(path="$.config.host", message=refused.detail)],
                ) from None
        check_window(config.pacing.window, "$.config.pacing.window")

    # -- outbound ----------------------------------------------------------------------

    async def handle(self, rt: Runtime, config: EmailConfig, call: ActionCall) -> Any:
        inputs: SendEmailInput = call.inputs
        recipients = [*inputs.to, *inputs.cc, *inputs.bcc]
        await self._refuse_suppressed(rt, call.tenant_id, inputs)
        send_after = next_opening(rt.clock.now(), config.pacing.window)
        if send_after is None:
            await reputation.charge(rt, call.tenant_id, config.guards, recipients)
        message, created = await sends.begin(
            rt,
            tenant_id=call.tenant_id,
            integration_id=call.integration_id,
            connector=self.name,
            idempotency_id=call.idempotency_id,
            recipient=inputs.to[0],
            lead_id=inputs.lead_id,
            payload={
                "channel": "email",
                "to": list(inputs.to),
                "cc": list(inputs.cc),
                "bcc": list(inputs.bcc),
                "subject": inputs.subject,
                "text": inputs.text,
                "html": inputs.html,
                "reply_to": inputs.reply_to,
                "attachments": [msgspec.to_builtins(a) for a in inputs.attachments],
                "template_id": inputs.template_id,
                "template_version": inputs.template_version,
                "idempotency_key": call.idempotency_key,
                "correlation_id": call.correlation_id,
            },
            send_after=send_after,
        )
        if not created:
            return self._again(message, config)
        if send_after is not None:
            return MessageOutput(
                message_id=message.id,
                channel="email",
                status="scheduled",
                send_after=send_after,
                rfc822_message_id=self._rfc822_id(message, config),
            )
        try:
            return await self._send(rt, config, message)
        except ActionRejected as rejected:
            await sends.mark_failed(rt, message.id, "rejected")
            await self._audit(rt, config, message, "rejected", rejected.detail)
            raise
        except ActionFailed as failed:
            if failed.code != "UPSTREAM_TIMEOUT":
                await sends.forget(rt, message.id)  # nothing left: the retry starts afresh
            raise

    async def _refuse_suppressed(self, rt: Runtime, tenant_id: str, inputs: SendEmailInput) -> None:
        fields = [("to", inputs.to), ("cc", inputs.cc), ("bcc", inputs.bcc)]
        blocked = await suppressions.suppressed(
            rt, tenant_id, [a for _, addresses in fields for a in addresses]
        )
        if not blocked:
            return
        errors = [
            FieldError(path=f"$.{name}[{i}]", message="suppressed: it bounced or complained")
            for name, addresses in fields
            for i, address in enumerate(addresses)
            if suppressions.normal(address) in blocked
        ]
        raise ActionFailed(
            "RECIPIENT_SUPPRESSED",
            "a recipient is on the tenant's suppression list; an admin clears it with "
            "DELETE /admin/v1/tenants/{id}/suppressions/{address}",
            errors=errors,
        )

    def _rfc822_id(self, message: OutboundMessage, config: EmailConfig) -> str:
        return rfc822.rfc822_id(message.id, config.from_address)

    def _again(self, message: OutboundMessage, config: EmailConfig) -> MessageOutput:
        """A retry of an action call whose message is already recorded: never a second
        provider call (one mid-send whose answer was lost answers ``queued``)."""
        if message.status == sends.FAILED:
            raise ActionRejected(
                "this e-mail was refused by the provider earlier",
                extra={"error_code": message.error_code},
            )
        status = {sends.SCHEDULED: "scheduled", sends.SENDING: "queued"}.get(message.status, "sent")
        return MessageOutput(
            message_id=message.id,
            channel="email",
            status=status,  # type: ignore[arg-type]
            send_after=message.send_after if status == "scheduled" else None,
            rfc822_message_id=self._rfc822_id(message, config),
        )

    async def _send(
        self, rt: Runtime, config: EmailConfig, message: OutboundMessage
    ) -> MessageOutput:
        payload = message.payload
        sender = rfc822.sender_of(config.from_address, config.from_name)
        headers = rfc822.hub_headers(message.id, payload)
        rfc822_message_id = self._rfc822_id(message, config)
        to, cc, bcc = payload.get("to") or [], payload.get("cc") or [], payload.get("bcc") or []
        text, html = rfc822.with_attachments(
            payload.get("text"),
            payload.get("html"),
            payload.get("attachments") or [],
            config.attachments_heading,
        )
        render = functools.partial(
            rfc822.build,
            rfc822_message_id=rfc822_message_id,
            sender=sender,
            to=to,
            cc=cc,
            reply_to=payload.get("reply_to"),
            subject=payload.get("subject") or "",
            text=text,
            html=html,
            headers=headers,
            date=message.created_at,
        )
        provider = self._provider(config)
        sent = await provider.send(
            self.client,
            rt.settings,
            config,
            OutgoingEmail(
                message_id=message.id,
                rfc822_message_id=rfc822_message_id,
                sender=sender,
                sender_address=config.from_address,
                to=to,
                cc=cc,
                bcc=bcc,
                subject=payload.get("subject") or "",
                text=text,
                html=html,
                reply_to=payload.get("reply_to"),
                headers=headers,
                render=render,
                idempotency_key=payload.get("idempotency_key") or message.idempotency_id,
            ),
        )
        await sends.mark_sent(rt, message.id, sent.provider_message_id)
        await self._audit(rt, config, message, "sent", None)
        data = self._event_data(message, config, sent.provider_message_id)
        for index, recipient in enumerate([*to, *cc, *bcc]):
            await publish_internal(
                rt,
                tenant_id=message.tenant_id,
                integration_id=message.integration_id,
                event_type="email.sent",
                producer_id=f"email:{provider.name}:sent:{message.id}:{index}",
                data={**data, "recipient": recipient},
                sandbox=False,
            )
        return MessageOutput(
            message_id=message.id,
            channel="email",
            status="sent",
            rfc822_message_id=rfc822_message_id,
        )

    def _event_data(
        self, message: OutboundMessage, config: EmailConfig, provider_message_id: str | None
    ) -> dict[str, Any]:
        payload = message.payload
        data: dict[str, Any] = {
            "message_id": message.id,
            "recipient": message.recipient,
            "subject": payload.get("subject"),
            "template_id": payload.get("template_id"),
            "template_version": payload.get("template_version"),
            "provider": provider_of(config),
            "provider_message_id": provider_message_id,
            "rfc822_message_id": self._rfc822_id(message, config),
        }
        if message.lead_id:
            data["lead"] = {"lead_id": message.lead_id}
        return data

    async def _audit(
        self,
        rt: Runtime,
        config: EmailConfig,
        message: OutboundMessage,
        status: str,
        reason: str | None,
    ) -> None:
        payload = message.payload
        async with rt.db.transaction() as session:
            record(
                session,
                at=rt.clock.now(),
                actor=f"integration:{message.integration_id}",
                action="email.send",
                outcome="success" if status == "sent" else "failure",
                tenant_id=message.tenant_id,
                integration_id=message.integration_id,
                target_type="message",
                target_id=message.id,
                details={
                    "provider": provider_of(config),
                    "template_id": payload.get("template_id"),
                    "template_version": payload.get("template_version"),
                    "status": status,
                    "attachments": len(payload.get("attachments") or []),
                    **({"reason": reason[:200]} if reason else {}),
                },
                correlation_id=payload.get("correlation_id"),
            )

    async def send_scheduled(
        self, rt: Runtime, config: EmailConfig, message: OutboundMessage
    ) -> None:
        reopening = next_opening(rt.clock.now(), config.pacing.window)
        if reopening is not None:
            await sends.reschedule(rt, message.id, reopening)
            return
        try:
            await reputation.charge(rt, message.tenant_id, config.guards, [message.recipient])
            await self._send(rt, config, message)
        except ConnectorUnusable:
            raise
        except ActionRejected as rejected:
            await sends.mark_failed(rt, message.id, "rejected")
            await self._audit(rt, config, message, "rejected", rejected.detail)
            await publish_internal(
                rt,
                tenant_id=message.tenant_id,
                integration_id=message.integration_id,
                event_type="email.rejected",
                producer_id=f"email:{provider_of(config)}:rejected:{message.id}",
                data={
                    **self._event_data(message, config, None),
                    "reason": rejected.detail[:500],
                },
                sandbox=False,
            )
        except ActionFailed as failed:
            if failed.code != "UPSTREAM_TIMEOUT":
                delay = timedelta(seconds=max(1, failed.retry_after or 60))
                await sends.reschedule(rt, message.id, rt.clock.now() + delay)

    # -- inbound -----------------------------------------------------------------------

    async def receive(
        self, rt: Runtime, config: EmailConfig, request: InboundRequest
    ) -> InboundReply:
        reply = await self._provider(config).receive(rt, config, request)
        if not reply.events:
            return reply
        events = await self._tied_back(rt, config, request, reply.events)
        return dataclasses.replace(reply, events=events)

    async def _tied_back(
        self,
        rt: Runtime,
        config: EmailConfig,
        request: InboundRequest,
        events: Sequence[InboundEvent],
    ) -> list[InboundEvent]:
        tenant_id = request.tenant_id
        by_id = await sends.by_ids(rt, tenant_id, [str(e.data.get("message_id")) for e in events])
        # Most events name the hub's id (a custom arg the hub sets); only the rest are
        # looked up by the provider's.
        unnamed = [e for e in events if str(e.data.get("message_id")) not in by_id]
        by_provider = await sends.by_provider_id(
            rt, tenant_id, [str(e.data.get("provider_message_id")) for e in unnamed]
        )
        final = (reputation.BOUNCED, reputation.COMPLAINED)
        statuses: dict[str, str] = {}  # what the batch leaves each message at
        out: list[InboundEvent] = []
        stormy = False
        for event in events:
            data = dict(event.data)
            message = by_id.get(str(data.get("message_id"))) or by_provider.get(
                str(data.get("provider_message_id"))
            )
            if message is not None:
                data["message_id"] = message.id
                if message.lead_id:
                    data["lead"] = {"lead_id": message.lead_id}
                for name in ("template_id", "template_version", "subject"):
                    if not data.get(name) and message.payload.get(name):
                        data[name] = message.payload[name]
                outcome = OUTCOMES.get(event.type)
                if outcome is not None and statuses.get(message.id, message.status) not in final:
                    statuses[message.id] = outcome
            recipient = data.get("recipient")
            reason = _suppression_reason(event.type, data)
            if isinstance(recipient, str) and reason is not None:
                await suppressions.suppress(rt, tenant_id, recipient, reason)
                stormy = True
            out.append(
                InboundEvent(type=event.type, id=event.id, data=data, occurred_at=event.occurred_at)
            )
        await sends.set_statuses(rt, tenant_id, statuses, keep=final)
        if stormy:
            await self._check_breaker(rt, config, request)
        return out

    async def _check_breaker(
        self, rt: Runtime, config: EmailConfig, request: InboundRequest
    ) -> None:
        reason = await reputation.breaker_reason(rt, request.tenant_id, self.name, config.guards)
        if reason is not None:
            await mark_failing(
                rt,
                tenant_id=request.tenant_id,
                connector=self.name,
                connector_id=request.connector_id,
                reason=reason,
            )
