"""The default catalog: the lead engine's actions (leads, appointments, messages, events).

Each action: input and output Structs (their docstrings and field metadata become
the JSON Schemas the apps show), a realistic sample, and the sandbox's simulation.
Live integrations send the lead-engine actions to the tenant's product
(``integrations/upstream.py``); ``publish_event`` is served by the hub itself.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from hub.actions.fields import (
    AwareDateTime,
    CompanyName,
    ContactName,
    Document,
    Email,
    Emails,
    ExternalId,
    LeadId,
    LeadStatus,
    MessageStatus,
    Notes,
    Phone,
    Phones,
    Source,
    Tags,
)
from hub.actions.handlers import ActionCall
from hub.actions.spec import ActionSpec, Simulation


def synthetic_id(prefix: str, call: ActionCall) -> str:
    """Sandbox ids: the same (integration, Idempotency-Key) always yields the same id."""
    digest = hashlib.sha256(f"{call.integration_id}\n{call.idempotency_key}".encode())
    return f"{prefix}_sbx_{digest.hexdigest()[:24]}"


# The sandbox's events follow the event catalog's shapes (hub/events/data.py); the
# sandbox handler drops whatever a type does not accept, so these are best effort.


def _timestamp(call: ActionCall) -> str:
    stamp: str = msgspec.to_builtins(call.started_at)
    return stamp


def _contact(name: str | None, emails: list[str], phones: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "emails": [{"address": e, "primary": i == 0} for i, e in enumerate(emails)],
        "phones": [{"number": p, "primary": i == 0} for i, p in enumerate(phones)],
    }


def _lead_ref(lead_id: str | None) -> dict[str, Any] | None:
    return {"lead_id": lead_id} if lead_id else None


# --- create_lead -------------------------------------------------------------------


class CreateLeadInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new lead for the lead engine."""

    company_name: CompanyName
    contact_name: ContactName | None = None
    document: Document | None = None
    emails: Emails = []
    phones: Phones = []
    status: LeadStatus = "new"
    tags: Tags = []
    source: Source | None = None
    external_id: ExternalId | None = None


class CreateLeadOutput(msgspec.Struct, kw_only=True):
    """The lead as the lead engine stored it."""

    lead_id: LeadId
    status: LeadStatus


def _simulate_create_lead(call: ActionCall) -> Simulation:
    inputs: CreateLeadInput = call.inputs
    lead_id = synthetic_id("lead", call)
    return Simulation(
        outputs=CreateLeadOutput(lead_id=lead_id, status=inputs.status),
        event_data={
            "lead_id": lead_id,
            "external_id": inputs.external_id,
            "company_name": inputs.company_name,
            "document": inputs.document,
            "contact": _contact(inputs.contact_name, inputs.emails, inputs.phones),
            "status": inputs.status,
            "tags": inputs.tags,
            "created_at": _timestamp(call),
            "updated_at": _timestamp(call),
        },
    )


CREATE_LEAD = ActionSpec(
    name="create_lead",
    title="Create Lead",
    description="Creates a lead (company, contact, CPF/CNPJ, e-mails, phones, tags) in the "
    "lead engine. Send `external_id` to let the lead engine refuse duplicates of your record.",
    noun="Lead",
    input_type=CreateLeadInput,
    output_type=CreateLeadOutput,
    sample_input={
        "company_name": "Exemplo Comércio Ltda",
        "contact_name": "João Silva",
        "document": "12345678000199",
        "emails": ["joao.silva@exemplo.com.br"],
        "phones": ["+5585999990000"],
        "status": "new",
        "tags": ["inbound", "website"],
        "source": "website-form",
        "external_id": "crm-4711",
    },
    sample_output={"lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v", "status": "new"},
    event_type="lead.created",
    simulate=_simulate_create_lead,
)


# --- update_lead -------------------------------------------------------------------


class UpdateLeadInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a lead; fields left out stay as they are."""

    lead_id: LeadId
    company_name: CompanyName | UnsetType = UNSET
    contact_name: ContactName | UnsetType | None = UNSET
    document: Document | UnsetType | None = UNSET
    emails: Emails | UnsetType = UNSET
    phones: Phones | UnsetType = UNSET
    status: LeadStatus | UnsetType = UNSET
    tags: Annotated[Tags, Meta(description="Replaces the lead's tags.")] | UnsetType = UNSET
    add_tags: Annotated[Tags, Meta(description="Added to the lead's tags.")] | UnsetType = UNSET

    def __post_init__(self) -> None:
        if not self.changed_fields():
            raise ValueError("send at least one field to change besides lead_id")

    def changed_fields(self) -> list[str]:
        return sorted(k for k in msgspec.to_builtins(self) if k != "lead_id")


class UpdateLeadOutput(msgspec.Struct, kw_only=True):
    """The lead after the change."""

    lead_id: LeadId
    status: LeadStatus | None = None
    updated_fields: list[str] = []


def _simulate_update_lead(call: ActionCall) -> Simulation:
    inputs: UpdateLeadInput = call.inputs
    changed = inputs.changed_fields()
    status = None if isinstance(inputs.status, UnsetType) else inputs.status
    sent: dict[str, Any] = msgspec.to_builtins(inputs)
    event_data: dict[str, Any] = {
        k: sent[k] for k in ("lead_id", "company_name", "document", "status") if k in sent
    }
    if "tags" in sent or "add_tags" in sent:
        event_data["tags"] = sent.get("tags", []) + sent.get("add_tags", [])
    if {"contact_name", "emails", "phones"} & set(sent):
        event_data["contact"] = _contact(
            sent.get("contact_name"), sent.get("emails", []), sent.get("phones", [])
        )
    event_data.update(changed_fields=changed, updated_at=_timestamp(call))
    return Simulation(
        outputs=UpdateLeadOutput(lead_id=inputs.lead_id, status=status, updated_fields=changed),
        event_data=event_data,
    )


UPDATE_LEAD = ActionSpec(
    name="update_lead",
    title="Update Lead",
    description="Changes a lead's fields (status, contact data, tags). Only the fields sent "
    "change; `add_tags` adds to the existing tags, `tags` replaces them.",
    noun="Lead",
    input_type=UpdateLeadInput,
    output_type=UpdateLeadOutput,
    sample_input={
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "status": "qualified",
        "add_tags": ["hot"],
    },
    sample_output={
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "status": "qualified",
        "updated_fields": ["add_tags", "status"],
    },
    event_type="lead.updated",
    simulate=_simulate_update_lead,
)


# --- schedule_appointment ----------------------------------------------------------

AppointmentKind = Literal["callback", "meeting"]
AppointmentChannel = Literal["phone", "whatsapp", "video"]


class ScheduleAppointmentInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A callback or a meeting with a lead."""

    lead_id: LeadId
    kind: Annotated[
        AppointmentKind,
        Meta(description="`callback`: we call the lead; `meeting`: a scheduled conversation."),
    ]
    scheduled_for: AwareDateTime
    channel: AppointmentChannel = "phone"
    duration_minutes: Annotated[int, Meta(ge=5, le=480)] = 30
    notes: Notes | None = None


class ScheduleAppointmentOutput(msgspec.Struct, kw_only=True):
    """The appointment as scheduled."""

    appointment_id: Annotated[str, Meta(examples=["apt_01jd2w0c7e9f1g2h3j4k5m6n7p"])]
    lead_id: LeadId
    kind: AppointmentKind
    scheduled_for: AwareDateTime
    status: Literal["scheduled"] = "scheduled"


def _simulate_schedule(call: ActionCall) -> Simulation:
    inputs: ScheduleAppointmentInput = call.inputs
    appointment_id = synthetic_id("apt", call)
    return Simulation(
        outputs=ScheduleAppointmentOutput(
            appointment_id=appointment_id,
            lead_id=inputs.lead_id,
            kind=inputs.kind,
            scheduled_for=inputs.scheduled_for,
        ),
        event_data={
            "appointment_id": appointment_id,
            "lead": _lead_ref(inputs.lead_id),
            "kind": inputs.kind,
            "channel": inputs.channel,
            "scheduled_for": msgspec.to_builtins(inputs.scheduled_for),
            "notes": inputs.notes,
        },
    )


SCHEDULE_APPOINTMENT = ActionSpec(
    name="schedule_appointment",
    title="Schedule Appointment",
    description="Schedules a callback or a meeting (phone, WhatsApp or video) with a lead.",
    noun="Appointment",
    input_type=ScheduleAppointmentInput,
    output_type=ScheduleAppointmentOutput,
    sample_input={
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "kind": "callback",
        "channel": "phone",
        "scheduled_for": "2026-11-23T14:00:00-03:00",
        "duration_minutes": 30,
        "notes": "Prefers afternoons.",
    },
    sample_output={
        "appointment_id": "apt_01jd2w0c7e9f1g2h3j4k5m6n7p",
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
        "kind": "callback",
        "scheduled_for": "2026-11-23T17:00:00Z",
        "status": "scheduled",
    },
    event_type="appointment.scheduled",
    simulate=_simulate_schedule,
)


# --- send_whatsapp_message / send_email ----------------------------------------------


class MessageOutput(msgspec.Struct, kw_only=True):
    """The message as accepted for sending."""

    message_id: Annotated[str, Meta(examples=["msg_01jd2w4r6t8v0x2z4b6d8f0h2k"])]
    channel: Literal["whatsapp", "email"]
    status: MessageStatus = "queued"


class SendWhatsAppMessageInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A WhatsApp message: free text, or an approved template with its variables."""

    to: Phone
    text: Annotated[str, Meta(min_length=1, max_length=4096)] | None = None
    template: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=100,
                pattern=r"^[a-z0-9_]+$",
                description="Name of an approved template (instead of `text`).",
                examples=["follow_up_1"],
            ),
        ]
        | None
    ) = None
    variables: Annotated[
        dict[Annotated[str, Meta(max_length=64)], Annotated[str, Meta(max_length=1024)]],
        Meta(description="Template variables by name.", examples=[{"name": "João"}]),
    ] = {}
    lead_id: LeadId | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.template is None):
            raise ValueError("send exactly one of text or template")


def _simulate_whatsapp(call: ActionCall) -> Simulation:
    inputs: SendWhatsAppMessageInput = call.inputs
    message_id = synthetic_id("msg", call)
    return Simulation(
        outputs=MessageOutput(message_id=message_id, channel="whatsapp"),
        event_data={
            "message_id": message_id,
            "lead": _lead_ref(inputs.lead_id),
            "channel": "whatsapp",
            "direction": "outbound",
            "contact_phone": inputs.to,
            "body": inputs.text or "",
            "template": inputs.template,
            "provider": "sandbox",
        },
    )


SEND_WHATSAPP_MESSAGE = ActionSpec(
    name="send_whatsapp_message",
    title="Send WhatsApp Message",
    description="Sends a WhatsApp message to a phone (E.164), as free text or as an approved "
    "template, optionally linked to a lead.",
    noun="Message",
    input_type=SendWhatsAppMessageInput,
    output_type=MessageOutput,
    sample_input={
        "to": "+5585999990000",
        "template": "follow_up_1",
        "variables": {"name": "João"},
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
    },
    sample_output={
        "message_id": "msg_01jd2w4r6t8v0x2z4b6d8f0h2k",
        "channel": "whatsapp",
        "status": "queued",
    },
    event_type="message.sent",
    simulate=_simulate_whatsapp,
)


class SendEmailInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An e-mail: plain text, HTML, or both."""

    to: Annotated[list[Email], Meta(min_length=1, max_length=50)]
    subject: Annotated[str, Meta(min_length=1, max_length=998)]
    text: Annotated[str, Meta(max_length=200_000)] | None = None
    html: Annotated[str, Meta(max_length=500_000)] | None = None
    cc: Annotated[list[Email], Meta(max_length=50)] = []
    reply_to: Email | None = None
    lead_id: LeadId | None = None

    def __post_init__(self) -> None:
        if self.text is None and self.html is None:
            raise ValueError("send text, html or both")


def _simulate_email(call: ActionCall) -> Simulation:
    inputs: SendEmailInput = call.inputs
    message_id = synthetic_id("msg", call)
    return Simulation(
        outputs=MessageOutput(message_id=message_id, channel="email"),
        event_data={
            "message_id": message_id,
            "lead": _lead_ref(inputs.lead_id),
            "channel": "email",
            "direction": "outbound",
            "contact_email": inputs.to[0],
            "subject": inputs.subject,
            "body": inputs.text or inputs.html or "",
            "provider": "sandbox",
        },
    )


SEND_EMAIL = ActionSpec(
    name="send_email",
    title="Send E-mail",
    description="Sends an e-mail (text and/or HTML), optionally linked to a lead.",
    noun="E-mail",
    input_type=SendEmailInput,
    output_type=MessageOutput,
    sample_input={
        "to": ["joao.silva@exemplo.com.br"],
        "subject": "Sua proposta",
        "text": "Olá João, segue a proposta.",
        "lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v",
    },
    sample_output={
        "message_id": "msg_01jd2w4r6t8v0x2z4b6d8f0h2k",
        "channel": "email",
        "status": "queued",
    },
    event_type="message.sent",
    simulate=_simulate_email,
)


# --- publish_event -------------------------------------------------------------------


class PublishEventInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A catalog event to publish into the hub (delivered to the tenant's subscriptions)."""

    type: Annotated[
        str,
        Meta(
            pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
            max_length=80,
            description="A catalog event type (see the catalog's event_types).",
            examples=["lead.created"],
        ),
    ]
    data: Annotated[
        dict[str, Any],
        Meta(description="The event's data, as the event type's schema describes it."),
    ]
    occurred_at: AwareDateTime | None = None


class PublishEventOutput(msgspec.Struct, kw_only=True):
    """The published event (``duplicate`` when this Idempotency-Key already published it)."""

    event_id: Annotated[str, Meta(examples=["evt_01jd2w8b0d2f4h6k8m0p2r4t6v"])] | None
    type: str
    duplicate: bool = False


PUBLISH_EVENT = ActionSpec(
    name="publish_event",
    title="Publish Event",
    description="Publishes a catalog event into the hub, as if the product had emitted it: "
    "lets a scenario feed other zaps and scenarios. Sandbox integrations publish sandbox "
    "events.",
    noun="Event",
    input_type=PublishEventInput,
    output_type=PublishEventOutput,
    sample_input={
        "type": "lead.created",
        "data": {"lead_id": "lead_01jd2v3k5m8n9p0q1r2s3t4u5v", "company_name": "Exemplo"},
    },
    sample_output={
        "event_id": "evt_01jd2w8b0d2f4h6k8m0p2r4t6v",
        "type": "lead.created",
        "duplicate": False,
    },
    handler="publish",
    sandbox_handler="publish",
)


DEFAULT_ACTIONS: tuple[ActionSpec, ...] = (
    CREATE_LEAD,
    UPDATE_LEAD,
    SCHEDULE_APPOINTMENT,
    SEND_WHATSAPP_MESSAGE,
    SEND_EMAIL,
    PUBLISH_EVENT,
)
