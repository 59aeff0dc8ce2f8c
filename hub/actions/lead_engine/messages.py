"""Message actions: ``send_whatsapp_message`` and ``send_email``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from hub.actions.handlers import ActionCall
from hub.actions.lead_engine.fields import AwareDateTime, Email, LeadId, MessageStatus, Phone
from hub.actions.lead_engine.sandbox_data import lead_ref, synthetic_id
from hub.actions.spec import ActionSpec, Simulation
from hub.web.patterns import URL_AUTHORITY, VISIBLE

# A link to a file, https, with no credentials in it (``user:pass@host`` would show them
# to every recipient) and no blanks. The hub never fetches it (no download proxy, no
# SSRF): the recipient's mail client does.
_HTTPS_LINK = rf"^https://{URL_AUTHORITY}+([/?#]{VISIBLE}*)?$"
# A file name as a mail client shows it: no control characters, no path.
_FILE_NAME = r"^[^\x00-\x1f\x7f/\\]+$"


class Attachment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A file sent with the e-mail as a link (the hub carries no file content)."""

    url: Annotated[
        str,
        Meta(
            max_length=2048,
            pattern=_HTTPS_LINK,
            title="File URL",
            description="Where the recipient downloads the file (https).",
            examples=["https://files.exemplo.com.br/propostas/4711.pdf"],
        ),
    ]
    filename: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=255,
            pattern=_FILE_NAME,
            title="File name",
            description="The name the recipient sees.",
            examples=["proposta-4711.pdf"],
        ),
    ]
    content_type: (
        Annotated[
            str,
            Meta(
                max_length=127,
                pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$",
                title="Content type",
                description="The file's media type, if known.",
                examples=["application/pdf"],
            ),
        ]
        | None
    ) = None
    size_bytes: (
        Annotated[
            int,
            Meta(ge=0, le=10**12, title="Size (bytes)", description="Shown beside the link."),
        ]
        | None
    ) = None


class MessageOutput(msgspec.Struct, kw_only=True):
    """The message as accepted for sending."""

    message_id: Annotated[str, Meta(examples=["msg_01jd2w4r6t8v0x2z4b6d8f0h2k"])]
    channel: Literal["whatsapp", "email"]
    status: MessageStatus = "queued"
    # When a ``scheduled`` message will be sent (the channel's sending window opens).
    send_after: AwareDateTime | None = None
    # The e-mail's Message-ID header, chosen by the hub (bounces and replies carry it).
    rfc822_message_id: Annotated[str, Meta(max_length=998)] | None = None


class SendWhatsAppMessageInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A WhatsApp message: free text, or an approved template with its variables."""

    to: (
        Annotated[
            Phone,
            Meta(
                title="To (E.164)",
                description="The phone to message. Left out with `lead_id` given, the "
                "lead's primary phone is used (the hub knows it from the lead's events; the "
                "product resolves it on its own path).",
            ),
        ]
        | None
    ) = None
    text: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=4096,
                title="Text",
                description="The message, as the lead will read it (instead of `template`).",
                examples=["Olá João! Podemos falar amanhã às 15h?"],
            ),
        ]
        | None
    ) = None
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
    language: Annotated[
        str,
        Meta(
            pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$",
            title="Template language",
            description="The approved template's language code (WhatsApp Cloud API).",
            examples=["pt_BR"],
        ),
    ] = "pt_BR"
    lead_id: LeadId | None = None

    # What __post_init__ checks, as the document states it (hub.actions.routes).
    schema_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {
                "required": ["text"],
                "properties": {"text": {"type": "string"}, "template": {"type": "null"}},
            },
            {
                "required": ["template"],
                "properties": {"template": {"type": "string"}, "text": {"type": "null"}},
            },
        ],
        "anyOf": [
            {"required": ["to"], "properties": {"to": {"type": "string"}}},
            {"required": ["lead_id"], "properties": {"lead_id": {"type": "string"}}},
        ],
    }

    def __post_init__(self) -> None:
        if (self.text is None) == (self.template is None):
            raise ValueError("send exactly one of text or template")
        if self.to is None and self.lead_id is None:
            raise ValueError("send to, or lead_id to message the lead's primary phone")


def _simulate_whatsapp(call: ActionCall) -> Simulation:
    inputs: SendWhatsAppMessageInput = call.inputs
    message_id = synthetic_id("msg", call)
    return Simulation(
        outputs=MessageOutput(message_id=message_id, channel="whatsapp"),
        event_data={
            "message_id": message_id,
            "lead": lead_ref(inputs.lead_id),
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
    description="Sends a WhatsApp message to a phone (E.164) — or to a lead's primary phone, "
    "given only `lead_id` — as free text or as an approved template.",
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

    to: Annotated[
        list[Email],
        Meta(min_length=1, max_length=50, title="To", description="1 to 50 recipients."),
    ]
    subject: Annotated[
        str, Meta(min_length=1, max_length=998, title="Subject", examples=["Sua proposta"])
    ]
    text: (
        Annotated[str, Meta(max_length=200_000, title="Text body", description="Plain text.")]
        | None
    ) = None
    html: (
        Annotated[str, Meta(max_length=500_000, title="HTML body", description="HTML version.")]
        | None
    ) = None
    cc: Annotated[
        list[Email], Meta(max_length=50, title="Cc", description="Copied recipients (up to 50).")
    ] = []
    bcc: Annotated[
        list[Email],
        Meta(max_length=50, title="Bcc", description="Blind copies (never shown in the e-mail)."),
    ] = []
    reply_to: Email | None = None
    # The product's template this final content came from (connectors never render
    # templates): carried in the message's headers, its audit record and its events.
    template_id: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=100,
                pattern=r"^[A-Za-z0-9_.:-]+$",
                title="Template id",
                description="The product's template this content was rendered from.",
                examples=["proposal_email"],
            ),
        ]
        | None
    ) = None
    template_version: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=50,
                pattern=r"^[A-Za-z0-9_.:-]+$",
                title="Template version",
                description="The version of that template.",
                examples=["3"],
            ),
        ]
        | None
    ) = None
    attachments: Annotated[
        list[Attachment],
        Meta(
            max_length=20,
            title="Attachments",
            description="Files as links, listed at the end of the e-mail (never fetched).",
        ),
    ] = []
    lead_id: LeadId | None = None

    # What __post_init__ checks, as the document states it (hub.actions.routes).
    schema_rules: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"required": ["text"], "properties": {"text": {"type": "string"}}},
            {"required": ["html"], "properties": {"html": {"type": "string"}}},
        ]
    }

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
            "lead": lead_ref(inputs.lead_id),
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
