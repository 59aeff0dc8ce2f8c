"""The event catalog: every event type declared once, with its data Struct and a sample.

Interface other capabilities rely on (keep it): ``EVENT_TYPES`` maps the type name
(e.g. ``lead.created``) to an ``EventType``. Each type also needs a policy in
``policies/<type>.json`` before anything of it can be subscribed to or delivered.
Types the hub itself publishes (``hub_only``, listed in ``RESERVED_EVENT_TYPES``)
can be subscribed to but never published from outside: a source could otherwise
forge the hub's own notices.

Samples are fake but realistic (reserved ``.example`` domains, fictitious numbers):
the Zapier and Make editors show them to users mapping fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.events import data as d


@dataclass(frozen=True)
class EventType:
    name: str
    title: str
    description: str
    data_type: type[Any]  # a msgspec Struct
    sample: dict[str, Any]  # the ``data`` of a realistic example
    hub_only: bool = False  # published by the hub itself, never through the API


_LEAD: dict[str, Any] = {
    "lead_id": "lead_01jd8v4m7q2k9x3n5p8r1s6t0w",
    "external_id": "CRM-2025-004817",
    "company_name": "Padaria Pão Dourado Ltda",
    "document": "12345678000190",
    "contact": {
        "name": "João Silva",
        "emails": [
            {"address": "joao.silva@paodourado.example", "primary": True},
            {"address": "compras@paodourado.example", "primary": False},
        ],
        "phones": [
            {"number": "+5584999990101", "primary": True, "kind": "mobile"},
            {"number": "+558432010202", "primary": False, "kind": "landline"},
        ],
    },
    "status": "new",
    "tags": ["bakery", "natal-rn", "import-2025-11"],
    "source": {"file": "Leads_Organizados.xlsx", "sheet": "Natal", "row": 1842},
    "raw_email": "joao.silva@paodourado.example; compras@paodourado.example",
    "raw_phone": "(84) 99999-0101 / (84) 3201-0202",
    "notes": "Prefers a call after 2 pm; ask for João.",
    "created_at": "2025-11-26T21:00:00Z",
    "updated_at": "2025-11-26T21:00:00Z",
}

_LEAD_REF: dict[str, Any] = {
    "lead_id": _LEAD["lead_id"],
    "company_name": _LEAD["company_name"],
    "contact_name": "João Silva",
}

# appointment.cancelled repeats the scheduled appointment it cancels.
_APPOINTMENT: dict[str, Any] = {
    "appointment_id": "apt_01jd8x7c2f6j0m4q8t2w6z0c4f",
    "lead": _LEAD_REF,
    "kind": "callback",
    "channel": "phone",
    "scheduled_for": "2025-11-28T18:00:00Z",
    "contact_phone": "+5584999990101",
    "notes": "Client prefers the afternoon.",
}

_WHATSAPP_SENT: dict[str, Any] = {
    "message_id": "msg_01jd8w2b6c0e4g8j2m6p0s4v8y",
    "lead": _LEAD_REF,
    "channel": "whatsapp",
    "direction": "outbound",
    "contact_phone": "+5584999990101",
    "body": "Olá João, aqui é a Ana da Alquimista. Podemos falar sobre o pedido de Natal?",
    "template": "first_contact_v2",
    "provider": "evolution",
    "provider_message_id": "3EB0C767D26A1D8B4B2F",
}


_EMAIL: dict[str, Any] = {
    "message_id": "msg_01jd8x0a4d8g2j6m0q4t8w2a6d",
    "lead": _LEAD_REF,
    "recipient": "compras@paodourado.example",
    "subject": "Pedido de Natal - Padaria Pão Dourado",
    "template_id": "proposal_email",
    "template_version": "3",
    "provider": "ses",
    "provider_message_id": "0100019a2b3c4d5e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
    "rfc822_message_id": "<msg_01jd8x0a4d8g2j6m0q4t8w2a6d@mail.alquimista.example>",
}


def _types(*types: EventType) -> dict[str, EventType]:
    return {t.name: t for t in types}


EVENT_TYPES: dict[str, EventType] = _types(
    EventType(
        name="lead.created",
        title="New lead",
        description="A lead was created, by a spreadsheet import or an action.",
        data_type=d.Lead,
        sample=_LEAD,
    ),
    EventType(
        name="lead.updated",
        title="Lead updated",
        description="A lead's fields changed; changed_fields names them.",
        data_type=d.LeadUpdated,
        sample={
            **_LEAD,
            "tags": [*_LEAD["tags"], "hot"],
            "updated_at": "2025-11-27T13:05:00Z",
            "changed_fields": ["tags"],
        },
    ),
    EventType(
        name="lead.status_changed",
        title="Lead status changed",
        description="A lead moved in the funnel (e.g. new -> contacting -> scheduled).",
        data_type=d.LeadStatusChanged,
        sample={
            "lead_id": _LEAD["lead_id"],
            "company_name": _LEAD["company_name"],
            "contact_name": "João Silva",
            "previous_status": "contacting",
            "status": "scheduled",
            "reason": "Callback booked by WhatsApp",
            "changed_at": "2025-11-27T14:10:00Z",
        },
    ),
    EventType(
        name="message.received",
        title="Reply received",
        description="A lead replied on WhatsApp or by e-mail.",
        data_type=d.Message,
        sample={
            "message_id": "msg_01jd8w9f3h7k1n5q9t3w7z1c5e",
            "lead": _LEAD_REF,
            "channel": "whatsapp",
            "direction": "inbound",
            "contact_phone": "+5584999990101",
            "body": "Oi Ana! Pode ligar amanhã às 15h, por favor.",
            "provider": "evolution",
            "provider_message_id": "3EB0A1F2C3D4E5F60718",
            "in_reply_to": "3EB0C767D26A1D8B4B2F",
        },
    ),
    EventType(
        name="message.sent",
        title="Message sent",
        description="The product sent a WhatsApp message or an e-mail to a lead.",
        data_type=d.Message,
        sample=_WHATSAPP_SENT,
    ),
    EventType(
        name="message.failed",
        title="Message failed",
        description="A message to a lead could not be sent after its retries.",
        data_type=d.MessageFailed,
        sample={
            "message_id": "msg_01jd8x0a4d8g2j6m0q4t8w2a6d",
            "lead": _LEAD_REF,
            "channel": "email",
            "direction": "outbound",
            "contact_email": "compras@paodourado.example",
            "subject": "Pedido de Natal - Padaria Pão Dourado",
            "body": "Bom dia! Segue nossa proposta para o pedido de Natal.",
            "template": "proposal_email_v1",
            "provider": "gmail",
            "error_code": "mailbox_full",
            "error_message": "552 5.2.2 compras@paodourado.example mailbox full",
            "attempts": 3,
        },
    ),
    EventType(
        name="message.delivered",
        title="Message delivered",
        description="A message sent to a lead reached the lead's phone or mailbox.",
        data_type=d.MessageStatusChanged,
        sample={
            "message_id": "msg_01jd8w2b6c0e4g8j2m6p0s4v8y",
            "lead": _LEAD_REF,
            "channel": "whatsapp",
            "status": "delivered",
            "contact_phone": "+5584999990101",
            "provider": "meta",
            "provider_message_id": "wamid.HBgMNTU4NDk5OTk5MDEwMRUCABEYEjQ5RkFGMzREMEQ1N0Q3QTY1NwA=",
        },
    ),
    EventType(
        name="message.read",
        title="Message read",
        description="A lead read a message sent to them (where the channel reports it).",
        data_type=d.MessageStatusChanged,
        sample={
            "message_id": "msg_01jd8w2b6c0e4g8j2m6p0s4v8y",
            "lead": _LEAD_REF,
            "channel": "whatsapp",
            "status": "read",
            "contact_phone": "+5584999990101",
            "provider": "meta",
            "provider_message_id": "wamid.HBgMNTU4NDk5OTk5MDEwMRUCABEYEjQ5RkFGMzREMEQ1N0Q3QTY1NwA=",
        },
    ),
    EventType(
        name="appointment.scheduled",
        title="Appointment scheduled",
        description="A callback or meeting with a lead was scheduled.",
        data_type=d.Appointment,
        sample=_APPOINTMENT,
    ),
    EventType(
        name="appointment.cancelled",
        title="Appointment cancelled",
        description="A scheduled callback or meeting was cancelled.",
        data_type=d.AppointmentCancelled,
        sample={
            **_APPOINTMENT,
            "cancelled_at": "2025-11-28T11:20:00Z",
            "reason": "Lead asked to move it to next week",
        },
    ),
    EventType(
        name="email.sent",
        title="E-mail sent",
        description="A tenant's e-mail connector handed an e-mail to its provider.",
        data_type=d.EmailEvent,
        sample=_EMAIL,
    ),
    EventType(
        name="email.delivered",
        title="E-mail delivered",
        description="The recipient's mail server accepted the e-mail.",
        data_type=d.EmailEvent,
        sample=_EMAIL,
    ),
    EventType(
        name="email.bounced",
        title="E-mail bounced",
        description="The e-mail could not be delivered: a hard bounce (the address is "
        "suppressed from then on) or a soft one.",
        data_type=d.EmailBounced,
        sample={
            **_EMAIL,
            "bounce_type": "hard",
            "diagnostic": "smtp; 550 5.1.1 <compras@paodourado.example>: user unknown",
        },
    ),
    EventType(
        name="email.complained",
        title="E-mail marked as spam",
        description="The recipient reported the e-mail as spam (the address is suppressed "
        "from then on).",
        data_type=d.EmailComplained,
        sample={**_EMAIL, "feedback_type": "abuse"},
    ),
    EventType(
        name="email.rejected",
        title="E-mail rejected",
        description="The provider refused to send the e-mail (e.g. a virus was found).",
        data_type=d.EmailRejected,
        sample={**_EMAIL, "reason": "Bad content"},
    ),
    EventType(
        name="connector.failing",
        title="Connector failing",
        description="A tenant's connector (a WhatsApp or e-mail provider) refused its "
        "credentials: sends through it stop until an admin fixes its configuration.",
        data_type=d.ConnectorFailing,
        sample={
            "connector": "whatsapp",
            "connector_id": "con_01jd9a2b3c4d5e6f7g8h9j0k1m",
            "reason": "Meta 190: the access token has expired",
            "failing_since": "2025-11-27T10:15:00Z",
        },
        hub_only=True,
    ),
    EventType(
        name="subscription.disabled",
        title="Subscription disabled",
        description="The hub disabled a subscription whose target kept failing.",
        data_type=d.SubscriptionDisabled,
        hub_only=True,
        sample={
            "subscription_id": "sub_01jd8y3e5g7j9m1p3r5t7w9y1b",
            "integration_id": "int_01jd8y3e5g7j9m1p3r5t7w9y1c",
            "event_type": "lead.created",
            "target_url": "https://hooks.zapier.com/hooks/standard/1234567/abcdef/",
            "reason": "target failing for 5 days",
            "failing_since": "2025-11-21T09:00:00Z",
            "disabled_at": "2025-11-26T09:00:00Z",
        },
    ),
)

RESERVED_EVENT_TYPES: frozenset[str] = frozenset(t.name for t in EVENT_TYPES.values() if t.hub_only)
RESERVED_MESSAGE = "reserved: only the hub itself publishes this event type"
