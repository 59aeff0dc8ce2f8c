"""The ``data`` of each event type: what the lead engine publishes, in English.

Shapes follow the product's own records: leads imported from spreadsheets
(company, contact, document, e-mails and phones exploded from raw cells, status,
tags, source file and row), WhatsApp and e-mail messages, callbacks and meetings.

Unknown fields are ignored on input and never stored: the product may run ahead
of the hub's catalog without its events being refused, and what the catalog does
not know cannot be delivered anyway (policies are default deny).
Every field a policy may name must be declared here; ``hub.sanitize`` checks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Id = Annotated[str, Meta(min_length=1, max_length=128)]
Short = Annotated[str, Meta(max_length=200)]
Text = Annotated[str, Meta(max_length=20_000)]
Timestamp = Annotated[datetime, Meta(tz=True)]
Channel = Literal["whatsapp", "email"]


class _Data(msgspec.Struct, kw_only=True):
    """Base of every event's data (each class repeats ``kw_only``: msgspec does not inherit it)."""


class Email(_Data, kw_only=True):
    address: Annotated[str, Meta(min_length=3, max_length=320)]
    primary: bool = False
    valid_for_outreach: bool = True


class Phone(_Data, kw_only=True):
    number: Annotated[str, Meta(min_length=4, max_length=32)]  # E.164 when known
    primary: bool = False
    kind: Short | None = None  # mobile | landline | unclassified
    valid_for_outreach: bool = True


class Contact(_Data, kw_only=True):
    name: Short | None = None
    emails: Annotated[list[Email], Meta(max_length=50)] = []
    phones: Annotated[list[Phone], Meta(max_length=50)] = []


class LeadSource(_Data, kw_only=True):
    """Where the lead was imported from: the spreadsheet, its tab and row."""

    file: Short
    sheet: Short | None = None
    row: Annotated[int, Meta(ge=0)]


class Lead(_Data, kw_only=True):
    lead_id: Id
    external_id: Short | None = None
    company_name: Annotated[str, Meta(max_length=500)]
    document: Annotated[str, Meta(max_length=32)] | None = None  # CNPJ / CPF
    contact: Contact = msgspec.field(default_factory=Contact)
    status: Short
    tags: Annotated[list[Short], Meta(max_length=100)] = []
    source: LeadSource | None = None
    # The spreadsheet's cells as imported, before the e-mails and phones were split.
    raw_email: Text | None = None
    raw_phone: Text | None = None
    notes: Text | None = None
    created_at: Timestamp
    updated_at: Timestamp


class LeadUpdated(Lead, kw_only=True):
    changed_fields: Annotated[list[Short], Meta(max_length=100)] = []


class LeadStatusChanged(_Data, kw_only=True):
    lead_id: Id
    company_name: Annotated[str, Meta(max_length=500)]
    contact_name: Short | None = None
    previous_status: Short | None = None
    status: Short
    reason: Text | None = None
    changed_at: Timestamp


class LeadRef(_Data, kw_only=True):
    """The lead a message or appointment is about."""

    lead_id: Id
    company_name: Annotated[str, Meta(max_length=500)] | None = None
    contact_name: Short | None = None


class Media(_Data, kw_only=True):
    """What a received attachment is (never its content: the provider keeps that)."""

    kind: Literal["image", "audio", "video", "document", "sticker"]
    mime_type: Annotated[str, Meta(max_length=255)] | None = None
    file_name: Annotated[str, Meta(max_length=255)] | None = None
    caption: Annotated[str, Meta(max_length=4096)] | None = None
    provider_media_id: Annotated[str, Meta(max_length=255)] | None = None
    sha256: Annotated[str, Meta(max_length=128)] | None = None


class Message(_Data, kw_only=True):
    message_id: Id
    # The lead, when known: the product's own messages name it; a message received
    # from a number the hub has not written to names none.
    lead: LeadRef | None = None
    channel: Channel
    direction: Literal["inbound", "outbound"]
    # The lead's side of the conversation: a phone on WhatsApp, an address by e-mail.
    contact_phone: Annotated[str, Meta(max_length=32)] | None = None
    contact_email: Annotated[str, Meta(max_length=320)] | None = None
    contact_name: Short | None = None
    subject: Annotated[str, Meta(max_length=1000)] | None = None
    body: Text = ""
    template: Short | None = None
    media: Media | None = None
    provider: Short  # evolution | meta | gmail | ...
    provider_message_id: Annotated[str, Meta(max_length=255)] | None = None
    in_reply_to: Annotated[str, Meta(max_length=255)] | None = None


class MessageStatusChanged(_Data, kw_only=True):
    """A provider's news about a message sent earlier: delivered to, or read by, the lead."""

    message_id: Id
    lead: LeadRef | None = None
    channel: Channel
    status: Literal["delivered", "read"]
    contact_phone: Annotated[str, Meta(max_length=32)] | None = None
    contact_email: Annotated[str, Meta(max_length=320)] | None = None
    provider: Short
    provider_message_id: Annotated[str, Meta(max_length=255)] | None = None


class MessageFailed(Message, kw_only=True):
    error_code: Short
    error_message: Text | None = None
    attempts: Annotated[int, Meta(ge=0)] = 1


class Appointment(_Data, kw_only=True):
    appointment_id: Id
    lead: LeadRef
    kind: Short  # callback | meeting
    channel: Short  # phone | whatsapp | video
    scheduled_for: Timestamp
    contact_phone: Annotated[str, Meta(max_length=32)] | None = None
    notes: Text | None = None


class AppointmentCancelled(Appointment, kw_only=True):
    cancelled_at: Timestamp
    reason: Text | None = None


class SubscriptionDisabled(_Data, kw_only=True):
    """Operational: the hub disabled a subscription whose target kept failing."""

    subscription_id: Id
    integration_id: Id | None = None
    event_type: Short
    target_url: Annotated[str, Meta(max_length=2048)] | None = None
    reason: Short
    failing_since: Timestamp | None = None
    disabled_at: Timestamp


class ConnectorFailing(_Data, kw_only=True):
    """Operational: a tenant's connector stopped working (its provider refused the
    credentials); nothing is sent through it until an admin saves its configuration."""

    connector: Short
    connector_id: Id
    reason: Annotated[str, Meta(max_length=300)]
    failing_since: Timestamp


class EmailEvent(_Data, kw_only=True):
    """An e-mail's news from its provider (or the hub's own, for ``email.sent``)."""

    message_id: Id  # the hub's message id when the e-mail was sent through the hub
    lead: LeadRef | None = None
    recipient: Annotated[str, Meta(max_length=320)]
    subject: Annotated[str, Meta(max_length=1000)] | None = None
    template_id: Short | None = None
    template_version: Short | None = None
    provider: Short  # ses | sendgrid | mailgun | smtp
    provider_message_id: Annotated[str, Meta(max_length=255)] | None = None
    rfc822_message_id: Annotated[str, Meta(max_length=998)] | None = None


class EmailBounced(EmailEvent, kw_only=True):
    bounce_type: Literal["hard", "soft"]
    # The receiving server's words (they often echo the address: policies drop them).
    diagnostic: Annotated[str, Meta(max_length=2000)] | None = None


class EmailComplained(EmailEvent, kw_only=True):
    feedback_type: Short | None = None  # abuse | fraud | not-spam | ...


class EmailRejected(EmailEvent, kw_only=True):
    reason: Annotated[str, Meta(max_length=500)] | None = None
