"""A tenant's e-mail connector configuration: one provider, its sender, and the guards
that keep the tenant's sending reputation (limits, quotas, the bounce/complaint breaker).

``provider`` tags the union: ``ses``, ``sendgrid``, ``mailgun`` or ``smtp``. Secret
fields (``SECRET_FIELDS``) are stored encrypted by the hub and never shown.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from hub.connectors.pacing import Pacing

Url = Annotated[str, Meta(min_length=8, max_length=2048, pattern=r"^https?://")]
Token = Annotated[str, Meta(min_length=1, max_length=4096)]
Address = Annotated[
    str,
    Meta(
        max_length=320, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", examples=["vendas@example.com"]
    ),
]
Rate = Annotated[float, Meta(gt=0, le=1)]


class Guards(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Reputation guards (docs/email.md, "Reputation"): counted per tenant in Redis."""

    per_minute: Annotated[int, Meta(ge=1, le=100_000)] | None = 60
    per_domain_per_minute: Annotated[int, Meta(ge=1, le=100_000)] | None = 20
    per_recipient_per_day: Annotated[int, Meta(ge=1, le=1000)] | None = 5
    daily_quota: Annotated[int, Meta(ge=1, le=10_000_000)] | None = 5000
    # The breaker: over the last ``window`` sends, more bounces or complaints than this.
    bounce_rate: Rate = 0.05
    complaint_rate: Rate = 0.001
    window: Annotated[int, Meta(ge=20, le=100_000)] = 1000
    min_sends: Annotated[int, Meta(ge=1, le=100_000)] = 100  # no verdict on fewer


class _Common(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    from_address: Address
    from_name: Annotated[str, Meta(max_length=200)] | None = None
    # The line above the attachment links at the end of a message, in its readers' language.
    attachments_heading: Annotated[str, Meta(min_length=1, max_length=100)] = "Attachments"
    guards: Guards = msgspec.field(default_factory=Guards)
    pacing: Pacing = msgspec.field(default_factory=Pacing)


class SesConfig(_Common, tag="ses", tag_field="provider", kw_only=True, forbid_unknown_fields=True):
    """Amazon SES (SESv2 SendEmail); lifecycle events through an SNS topic."""

    region: Annotated[str, Meta(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$", examples=["us-east-1"])]
    access_key_id: Token
    secret_access_key: Token
    configuration_set: Annotated[str, Meta(max_length=64)] | None = None
    # The SNS topic SES publishes bounces, complaints and deliveries to (inbound).
    sns_topic_arn: (
        Annotated[str, Meta(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$")]
        | None
    ) = None
    endpoint_url: Url | None = None  # default: AWS's regional endpoint


class SendGridConfig(
    _Common, tag="sendgrid", tag_field="provider", kw_only=True, forbid_unknown_fields=True
):
    """SendGrid (v3 mail/send); the signed Event Webhook for the lifecycle."""

    api_key: Token
    # The Event Webhook's verification key (base64 DER of the ECDSA P-256 public key).
    webhook_public_key: Annotated[str, Meta(min_length=40, max_length=4096)] | None = None
    api_url: Url = "https://api.sendgrid.com"


class MailgunConfig(
    _Common, tag="mailgun", tag_field="provider", kw_only=True, forbid_unknown_fields=True
):
    """Mailgun (messages API); its signed webhooks for the lifecycle."""

    api_key: Token
    domain: Annotated[str, Meta(max_length=253, pattern=r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")]
    webhook_signing_key: Token | None = None
    api_url: Url = "https://api.mailgun.net"  # https://api.eu.mailgun.net in the EU


class SmtpConfig(
    _Common, tag="smtp", tag_field="provider", kw_only=True, forbid_unknown_fields=True
):
    """Any SMTP submission server (the expert fallback: no lifecycle webhooks)."""

    host: Annotated[str, Meta(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.-]+$")]
    port: Annotated[int, Meta(ge=1, le=65535)] = 587
    username: Annotated[str, Meta(max_length=320)] | None = None
    password: Token | None = None
    # "starttls" (587), "tls" (implicit, 465) or "none" (tests and trusted relays only).
    security: Annotated[str, Meta(pattern=r"^(starttls|tls|none)$")] = "starttls"


EmailConfig = SesConfig | SendGridConfig | MailgunConfig | SmtpConfig

SECRET_FIELDS = frozenset(
    {"access_key_id", "secret_access_key", "api_key", "webhook_signing_key", "password"}
)
