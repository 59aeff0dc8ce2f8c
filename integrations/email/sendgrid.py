"""The SendGrid provider (Twilio SendGrid's v3 Web API).

Sending: ``POST {api_url}/v3/mail/send`` with ``Authorization: Bearer {api_key}`` and
the v3 JSON: one personalization (``to``, ``cc``, ``bcc``), ``from``, ``reply_to``,
``subject``, ``content`` (``text/plain`` then ``text/html``), the hub's ``Message-ID``
and ``X-Hub-*`` headers in ``headers``, and the hub's message id in
``custom_args.hub_message_id`` (SendGrid echoes custom args as top-level fields of
every event of the message). SendGrid answers ``202 Accepted`` with an empty body and
the message's id in the ``X-Message-Id`` header.

Its errors are ``{"errors": [{"message", "field", "help"}]}`` (``field`` is a dotted
path such as ``personalizations.0.to.0.email``): see ``outcome`` for how each becomes
the hub's answer.

Receiving: the Signed Event Webhook. SendGrid signs ``X-Twilio-Email-Event-Webhook-
Timestamp`` + the raw body with ECDSA P-256 / SHA-256 and sends the base64 DER
signature in ``X-Twilio-Email-Event-Webhook-Signature``; the configured
``webhook_public_key`` is the base64 DER SubjectPublicKeyInfo SendGrid shows. The body
is a JSON array of events, one recipient each.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

import httpx
import msgspec
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from hub.actions.handlers import ActionFailed, ActionRejected, RetriableCode
from hub.config import Settings
from hub.connectors.protocol import InboundEvent, InboundReply, InboundRequest
from hub.events.data import EmailBounced, EmailComplained, EmailEvent, EmailRejected
from hub.runtime import Runtime
from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import in_range
from integrations.email.config import SendGridConfig
from integrations.email.provider import CredentialsRejected, OutgoingEmail, Sent
from integrations.outbound import NOT_JSON, decode_json, pin, post

log = logging.getLogger("hub.integrations.email.sendgrid")

NAME = "sendgrid"
SEND_TIMEOUT_SECONDS = 15.0
MAX_REASON_CHARS = 300
MAX_FIELD_ERRORS = 10
DEFAULT_RETRY_AFTER = 60
MAX_RETRY_AFTER = 3600
# "Not now" rather than "no": the same send may succeed later (429 is handled apart).
RETRIABLE_4XX = frozenset({409, 423, 425})
# SendGrid refuses these in ``headers`` (its v3 Mail Send errors, "Headers Errors").
RESERVED_HEADERS = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)
SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
CUSTOM_ARG = "hub_message_id"

_encoder = msgspec.json.Encoder()
_ADDRESS = re.compile(r"[^\s<>@\"',;:()\[\]]+@[^\s<>@\"',;:()\[\]]+")


class SendGridProvider:
    """SendGrid's wire format for the e-mail connector (``provider.EmailProvider``)."""

    name = NAME

    def __init__(self, timeout_seconds: float = SEND_TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds

    async def send(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        config: SendGridConfig,
        message: OutgoingEmail,
    ) -> Sent:
        body = _encoder.encode(request_body(message))
        url = f"{config.api_url.rstrip('/')}/v3/mail/send"
        try:
            target = await pin(url, settings, path="$.config.api_url")
        except ProblemError as exc:
            raise ActionFailed(
                "TARGET_NOT_ALLOWED", f"the SendGrid api_url is not allowed: {exc.detail}"
            ) from None
        headers = {
            "content-type": "application/json",
            "accept": "application/json",
            "authorization": f"Bearer {config.api_key}",
        }
        answer = await post(
            client,
            target,
            party="SendGrid",
            seconds=self.timeout_seconds,
            headers=headers,
            content=body,
        )
        status, response_headers, raw = answer.status, answer.headers, answer.body
        return outcome(status, response_headers, raw, message, secret=config.api_key)

    async def receive(
        self, rt: Runtime, config: SendGridConfig, request: InboundRequest
    ) -> InboundReply:
        if request.method.upper() != "POST":
            raise ProblemError("METHOD_NOT_ALLOWED", "SendGrid's Event Webhook is a POST")
        verify_signature(config.webhook_public_key, request.headers, request.body)
        try:
            payload = msgspec.json.decode(request.body)
        except msgspec.DecodeError:
            payload = None
        if not isinstance(payload, list):
            # Authentic but unreadable: answered 200 so SendGrid does not retry it.
            log.warning("a SendGrid Event Webhook call is not a JSON array; nothing published")
            return _ok()
        return _ok(events_of(payload, request.received_at))


def _ok(events: list[InboundEvent] | None = None) -> InboundReply:
    return InboundReply(events=events or [], status=200, body=b"ok", media_type="text/plain")


# -- sending: the request ----------------------------------------------------------------


def _address(value: str) -> dict[str, str]:
    name, address = parseaddr(value)
    entry = {"email": address or value.strip()}
    if name:
        entry["name"] = name
    return entry


def _recipients(
    message: OutgoingEmail,
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """``to``, ``cc`` and ``bcc``, each address once: SendGrid refuses a request that
    names one address twice in a personalization (400), whichever lists hold it."""
    seen: set[str] = set()

    def unique(values: Sequence[str]) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for value in values:
            entry = _address(value)
            key = entry["email"].lower()
            if key in seen:
                continue
            seen.add(key)
            out.append(entry)
        return out

    return unique(message.to), unique(message.cc), unique(message.bcc)


def request_body(message: OutgoingEmail) -> dict[str, Any]:
    """The v3 Mail Send body for ``message``."""
    to, cc, bcc = _recipients(message)
    if not to:
        reason = "at least one recipient is required"
        raise ActionRejected(reason, errors=[FieldError(path="$.to", message=reason)])
    content: list[dict[str, str]] = []
    if message.text is not None:
        content.append({"type": "text/plain", "value": message.text})
    if message.html is not None:
        content.append({"type": "text/html", "value": message.html})
    if not content or not any(part["value"] for part in content):
        reason = "a text or an HTML body is required"
        raise ActionRejected(reason, errors=[FieldError(path="$.text", message=reason)])
    personalization: dict[str, Any] = {"to": to}
    if cc:
        personalization["cc"] = cc
    if bcc:
        personalization["bcc"] = bcc
    sender_name, _ = parseaddr(message.sender)
    sender: dict[str, str] = {"email": message.sender_address}
    if sender_name:
        sender["name"] = sender_name
    headers = {"Message-ID": message.rfc822_message_id}
    for name, value in message.headers.items():
        if name.lower() not in RESERVED_HEADERS and name.lower() != "message-id":
            headers[name] = value
    body: dict[str, Any] = {
        "personalizations": [personalization],
        "from": sender,
        "subject": message.subject,
        "content": content,
        "headers": headers,
        "custom_args": {CUSTOM_ARG: message.message_id},
    }
    if message.reply_to:
        body["reply_to"] = _address(message.reply_to)
    return body


# -- sending: the answer -----------------------------------------------------------------


def _clean(value: Any, secret: str = "") -> str:
    """Printable, short, no address (SendGrid quotes duplicated ones), never the key."""
    if not isinstance(value, str):
        return ""
    if secret:
        value = value.replace(secret, "[redacted]")
    value = _ADDRESS.sub("[address]", value)
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(cleaned.split())[:MAX_REASON_CHARS]


def _clip(text: str, limit: int = MAX_REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _decode(raw: bytes) -> Any:
    """SendGrid answers 202 with no body: that is no error, not "not JSON"."""
    return None if not raw.strip() else decode_json(raw)


def _errors(payload: Any, secret: str) -> list[tuple[str, str]]:
    """SendGrid's ``(field, message)`` pairs, cleaned."""
    items = payload.get("errors") if isinstance(payload, dict) else None
    out: list[tuple[str, str]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        field = item.get("field")
        message = _clean(item.get("message"), secret)
        out.append((field if isinstance(field, str) else "", message))
    return out


def field_path(field: str) -> str:
    """The action input a SendGrid ``field`` names, where it is obvious; else ``$``."""
    parts = [part for part in field.split(".") if part and not part.isdigit()]
    if parts and parts[0] == "personalizations":
        parts = parts[1:]
        if not parts:
            return "$.to"  # "must have at least one personalization", the recipients' cap
    head = parts[0] if parts else ""
    return {
        "to": "$.to",
        "cc": "$.cc",
        "bcc": "$.bcc",
        "subject": "$.subject",
        "reply_to": "$.reply_to",
        "reply_to_list": "$.reply_to",
    }.get(head, "$")


def _retry_after(headers: httpx.Headers, now: float | None = None) -> int | None:
    """``Retry-After`` (seconds), else ``X-RateLimit-Reset`` (a Unix time) from now."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(max(int(value), 1), MAX_RETRY_AFTER)
    reset = headers.get("x-ratelimit-reset", "").strip()
    if reset.isdigit():
        seconds = int(reset) - int(time.time() if now is None else now)
        return min(max(seconds, 1), MAX_RETRY_AFTER)
    return None


def _failed(code: RetriableCode, detail: str, retry_after: int | None = None) -> ActionFailed:
    return ActionFailed(code, _clip(detail), retry_after=retry_after)


def outcome(
    status: int,
    headers: httpx.Headers,
    raw: bytes,
    message: OutgoingEmail,
    *,
    secret: str = "",
) -> Sent:
    """The send's result from SendGrid's answer, or raise the exception that says why not.

    2xx → ``Sent`` (``X-Message-Id``); 401/403 → ``CredentialsRejected`` (a bad or
    under-scoped key, an unverified sender); 404 → ``CredentialsRejected`` (the api_url
    is not SendGrid's); 429 → RATE_LIMITED; 408 → UPSTREAM_TIMEOUT; 3xx, 5xx and answers
    that are not SendGrid's → UPSTREAM_ERROR; 413 and the other 4xx → ``ActionRejected``.
    """
    if 200 <= status < 300:
        provider_id = headers.get("x-message-id", "").strip()
        if not provider_id or len(provider_id) > 255 or not provider_id.isprintable():
            # Accepted all the same: a retry would send it twice. Its events still name
            # the hub's id (the custom arg), which finds the message again.
            log.warning("SendGrid accepted a message without naming its X-Message-Id")
            provider_id = message.message_id
        return Sent(provider_message_id=provider_id)
    payload = _decode(raw)
    errors = _errors(payload, secret)
    first = next((text for _, text in errors if text), "")
    label = f"HTTP {status}"
    if status in (401, 403):
        said = f": {first}" if first else ""
        raise CredentialsRejected(
            _clip(
                f"SendGrid answered {label}{said}; check the api_key, its mail.send "
                "permission and the sender identity of from_address"
            )
        )
    if status == 404:
        raise CredentialsRejected(f"SendGrid answered {label} for /v3/mail/send: check the api_url")
    if status == 429:
        raise _failed(
            "RATE_LIMITED",
            f"SendGrid is throttling sends ({label})",
            _retry_after(headers) or DEFAULT_RETRY_AFTER,
        )
    if status == 408:
        raise _failed("UPSTREAM_TIMEOUT", f"SendGrid timed out ({label})")
    if 300 <= status < 400:
        raise _failed(
            "UPSTREAM_ERROR", f"SendGrid redirected ({label}); redirects are not followed"
        )
    if status == 413:
        reason = first or "the message is too large for SendGrid"
        raise _rejection(status, [("", reason)])
    if (
        status >= 500
        or status in RETRIABLE_4XX
        or status < 400
        or payload is NOT_JSON
        or not errors
    ):
        # A 4xx that is not SendGrid's error body came from something in between.
        raise _failed(
            "UPSTREAM_ERROR",
            f"SendGrid failed ({label}){': ' + first if first else ''}",
            _retry_after(headers),
        )
    raise _rejection(status, errors)


def _rejection(status: int, errors: list[tuple[str, str]]) -> ActionRejected:
    fields: list[FieldError] = []
    for field, text in errors[:MAX_FIELD_ERRORS]:
        reason = text or f"HTTP {status}"
        fields.append(FieldError(path=field_path(field), message=_clip(f"SendGrid: {reason}")))
    first = next((text for _, text in errors if text), f"HTTP {status}")
    return ActionRejected(
        _clip(f"SendGrid refused the message: {first}"),
        errors=fields,
        extra={"provider_status": status},
    )


# -- receiving: verification -------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _public_key(value: str) -> ec.EllipticCurvePublicKey | None:
    """The configured key (base64 DER; PEM armour and whitespace tolerated), or None."""
    text = "".join(
        line.strip() for line in value.strip().splitlines() if not line.startswith("-----")
    )
    try:
        key = load_der_public_key(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return None
    return key


def verify_signature(public_key: str | None, headers: Mapping[str, str], body: bytes) -> None:
    """Raise ``ProblemError("UNAUTHENTICATED")`` unless SendGrid's ECDSA signature over
    the timestamp and the raw body holds (checked before anything reads the body)."""
    if not public_key:
        raise ProblemError(
            "UNAUTHENTICATED", "no webhook_public_key is configured: the call cannot be verified"
        )
    key = _public_key(public_key)
    if key is None:
        log.warning("the configured SendGrid webhook_public_key is not an ECDSA P-256 key")
        raise ProblemError("UNAUTHENTICATED", "the configured webhook_public_key is unusable")
    signature = headers.get(SIGNATURE_HEADER, "").strip()
    timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not signature or not timestamp:
        raise ProblemError("UNAUTHENTICATED", "the SendGrid signature headers are missing")
    try:
        der = base64.b64decode(signature, validate=True)
        key.verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature, UnicodeEncodeError):
        raise ProblemError("UNAUTHENTICATED", "the webhook signature does not verify") from None


# -- receiving: events -------------------------------------------------------------------

PUBLISHED = frozenset({"delivered", "bounce", "spamreport", "dropped"})


def events_of(items: list[Any], received_at: datetime) -> list[InboundEvent]:
    """The catalog events of one verified call; an unreadable item is skipped (and
    counted), the others survive."""
    events: list[InboundEvent] = []
    skipped = 0
    for item in items:
        try:
            event = _event(item, received_at)
        except (KeyError, TypeError, ValueError, AttributeError, msgspec.ValidationError):
            event, skipped = None, skipped + 1
        if event is not None:
            events.append(event)
    if skipped:
        log.warning("SendGrid events could not be read", extra={"skipped": skipped})
    return events


def _str(value: Any, limit: int) -> str | None:
    """A non-empty string without NUL (refused by the hub), cut to ``limit``."""
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "")[:limit]
    return cleaned if cleaned.strip() else None


def _token(value: Any, limit: int = 128) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable():
        return value
    return None


def _recipient(value: Any) -> str:
    if isinstance(value, str):
        address = value.strip()
        if 3 <= len(address) <= 320 and "@" in address and address.isprintable():
            return address
    raise ValueError("no usable recipient")


def _moment(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fallback
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback
    return moment if in_range(moment) else fallback


def provider_message_id(sg_message_id: Any) -> str | None:
    """The ``X-Message-Id`` the send was answered with, from an event's ``sg_message_id``:
    the part before the first dot (``W7cBMv0wQ5mFM5dxXRYLrQ.filterdrecv-…`` →
    ``W7cBMv0wQ5mFM5dxXRYLrQ``), or before ``.filter``/``.recvd`` for the older ids that
    hold dots themselves (``14c5d75ce93.dfd.64b469.filter0001.…``)."""
    if not isinstance(sg_message_id, str) or not sg_message_id.strip():
        return None
    value = sg_message_id.strip()
    for marker in (".filter", ".recvd", ".stfilter"):
        at = value.find(marker)
        if at > 0:
            return _token(value[:at], 255)
    return _token(value.split(".", 1)[0], 255)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _event(item: Any, received_at: datetime) -> InboundEvent | None:
    if not isinstance(item, dict):
        raise TypeError("an event is not an object")
    kind = item.get("event")
    if kind not in PUBLISHED:
        return None  # processed, deferred, open, click, unsubscribe, group_*: nothing
    event_id = _token(item.get("sg_event_id"), 200)
    if event_id is None:
        raise ValueError("no sg_event_id")
    recipient = _recipient(item.get("email"))
    provider_id = provider_message_id(item.get("sg_message_id"))
    message_id = _token(item.get(CUSTOM_ARG)) or _token(provider_id)
    if message_id is None:
        raise ValueError("no message id")
    smtp_id = _str(item.get("smtp-id"), 998)
    common = _present(
        {
            "message_id": message_id,
            "recipient": recipient,
            "provider": NAME,
            "provider_message_id": provider_id,
            "rfc822_message_id": smtp_id if smtp_id and smtp_id.startswith("<") else None,
        }
    )
    data: dict[str, Any]
    if kind == "delivered":
        event_type, data = "email.delivered", common
        msgspec.convert(data, EmailEvent)
    elif kind == "bounce":
        # "blocked" is SendGrid's temporary refusal; "bounce" (or none) the permanent one.
        bounce_type = "soft" if item.get("type") == "blocked" else "hard"
        data = _present({**common, "bounce_type": bounce_type, "diagnostic": _diagnostic(item)})
        event_type = "email.bounced"
        msgspec.convert(data, EmailBounced)
    elif kind == "spamreport":
        event_type, data = "email.complained", {**common, "feedback_type": "abuse"}
        msgspec.convert(data, EmailComplained)
    else:
        event_type = "email.rejected"
        data = _present({**common, "reason": _str(item.get("reason"), 500)})
        msgspec.convert(data, EmailRejected)
    return InboundEvent(
        type=event_type,
        id=f"{NAME}:{event_id}",
        data=data,
        occurred_at=_moment(item.get("timestamp"), received_at),
    )


def _diagnostic(item: Mapping[str, Any]) -> str | None:
    reason = _str(item.get("reason"), 2000)
    status = _str(item.get("status"), 20)
    if reason and status and status not in reason:
        return f"{status} {reason}"[:2000]
    return reason or status
