"""Meta's WhatsApp Cloud API provider (graph.facebook.com).

Sending: ``POST {graph_url}/{api_version}/{phone_number_id}/messages`` with ``Authorization:
Bearer {access_token}`` and Meta's message object (``text`` or ``template``). Every send
carries the hub's message id in ``biz_opaque_callback_data``: Meta echoes it in the
status webhooks of that message, which is how a status finds the hub's message again.
The answer names the WhatsApp message id (``messages[0].id``, a ``wamid``).

Meta's errors are Graph API errors, ``{"error": {"message", "type", "code",
"error_subcode", "error_data": {"messaging_product", "details"}, "fbtrace_id"}}``, and
Meta recommends keying on ``code`` (most of them arrive with HTTP 400, whatever they
mean): see ``outcome`` for how each becomes the hub's answer.

Receiving: a GET is the subscription handshake (``hub.mode``, ``hub.verify_token``,
``hub.challenge``); a POST is signed with the app secret (``X-Hub-Signature-256:
sha256=<hex HMAC-SHA256 of the raw body>``) and batches any number of entries, changes,
messages and statuses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from hub.actions.handlers import ActionRejected
from hub.config import Settings
from hub.connectors.protocol import InboundEvent, InboundReply, InboundRequest
from hub.events.data import Message, MessageFailed, MessageStatusChanged
from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import in_range
from integrations.outbound import NOT_JSON, decode_json, pin, post
from integrations.whatsapp.config import MetaConfig
from integrations.whatsapp.phones import digits
from integrations.whatsapp.provider import CredentialsRejected, Outgoing, Sent, retriable

log = logging.getLogger("hub.integrations.whatsapp.meta")

NAME = "meta"
CHANNEL = "whatsapp"
SEND_TIMEOUT_SECONDS = 10.0
MAX_REASON_CHARS = 300
DEFAULT_RETRY_AFTER = 60
MAX_CHALLENGE_CHARS = 256
SIGNATURE_PREFIX = "sha256="

# Meta's error codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
INVALID_TOKEN = 190
# Throughput and rate limits: the same send succeeds later.
RATE_CODES = frozenset({4, 80007, 130429, 131048, 131056})
# Meta's own failures: unknown error, service down, "something went wrong".
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})
# The recipient cannot get the message: undeliverable, is the sender, not registered,
# not in the test number's allowed list.
RECIPIENT_CODES = frozenset({131026, 131021, 133010, 131030})
REENGAGEMENT = 131047
TEMPLATE_CODES = range(132000, 132070)
REENGAGEMENT_HINT = (
    "outside the 24-hour customer-service window a free-text message cannot be sent: "
    "use an approved template"
)

_encoder = msgspec.json.Encoder()


class MetaProvider:
    """Meta's wire format for the WhatsApp connector (``provider.Provider``)."""

    name = NAME

    def __init__(self, timeout_seconds: float = SEND_TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds

    async def send(
        self, client: httpx.AsyncClient, settings: Settings, config: MetaConfig, message: Outgoing
    ) -> Sent:
        body = _encoder.encode(request_body(message))
        url = (
            f"{config.graph_url.rstrip('/')}/{config.api_version}/{config.phone_number_id}/messages"
        )
        try:
            target = await pin(url, settings, path="$.config.graph_url")
        except ProblemError as exc:
            raise retriable(
                "TARGET_NOT_ALLOWED", f"the Meta graph_url is not allowed: {exc.detail}"
            ) from None
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {config.access_token}",
        }
        answer = await post(
            client,
            target,
            party="Meta",
            seconds=self.timeout_seconds,
            headers=headers,
            content=body,
        )
        status, response_headers, raw = answer.status, answer.headers, answer.body
        return outcome(status, response_headers, raw, secret=config.access_token)

    async def receive(self, config: MetaConfig, request: InboundRequest) -> InboundReply:
        method = request.method.upper()
        if method == "GET":
            return handshake(config.verify_token, request.query)
        if method != "POST":
            raise ProblemError("METHOD_NOT_ALLOWED", "Meta's webhooks are GET or POST")
        verify_signature(config.app_secret, request.headers, request.body)
        try:
            payload = msgspec.json.decode(request.body)
        except msgspec.DecodeError:
            payload = None
        if not isinstance(payload, dict):
            # Authentic but unreadable: answered 200 so Meta does not retry it for days.
            log.warning("a Meta webhook call is not a JSON object; nothing published")
            return _ok()
        return _ok(events_of(payload, config.phone_number_id, request.received_at))


def _ok(events: list[InboundEvent] | None = None) -> InboundReply:
    return InboundReply(events=events or [], status=200, body=b"EVENT_RECEIVED")


# -- sending: the request ----------------------------------------------------------------


def request_body(message: Outgoing) -> dict[str, Any]:
    """Meta's message object for ``message`` (a template when it names one)."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": digits(message.to),
    }
    if message.template is not None:
        body["type"] = "template"
        body["template"] = _template(message)
    else:
        if not message.text:
            reason = "a text or a template is required"
            raise ActionRejected(reason, errors=[FieldError(path="$.text", message=reason)])
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": message.text}
    body["biz_opaque_callback_data"] = message.message_id
    return body


def _template(message: Outgoing) -> dict[str, Any]:
    template: dict[str, Any] = {
        "name": message.template,
        "language": {"code": message.language},
    }
    parameters = _parameters(message.variables)
    # A template without variables takes no body component: Meta counts an empty
    # parameter list against the template's and refuses a mismatch.
    if parameters:
        template["components"] = [{"type": "body", "parameters": parameters}]
    return template


def _parameters(variables: Mapping[str, str]) -> list[dict[str, str]]:
    """Positional parameters for ``{{1}}``-style templates (in numeric order, so "10"
    follows "9"), named ones (``parameter_name``) for the others."""
    if variables and all(name.isdigit() for name in variables):
        return [{"type": "text", "text": variables[name]} for name in sorted(variables, key=int)]
    return [
        {"type": "text", "parameter_name": name, "text": value} for name, value in variables.items()
    ]


# -- sending: the answer -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetaError:
    """The fields of Meta's error body the hub keys on (all optional on the wire)."""

    code: int | None
    subcode: int | None
    message: str
    details: str

    @classmethod
    def of(cls, payload: Any, secret: str) -> MetaError:
        error = payload.get("error") if isinstance(payload, dict) else None
        error = error if isinstance(error, dict) else {}
        data = error.get("error_data")
        data = data if isinstance(data, dict) else {}
        return cls(
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            message=_clean(error.get("message"), secret),
            details=_clean(data.get("details"), secret),
        )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _clean(value: Any, secret: str) -> str:
    """Printable, short, and never the access token (Meta may quote what it was sent)."""
    if not isinstance(value, str):
        return ""
    if secret:
        value = value.replace(secret, "[redacted]")
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(cleaned.split())[:MAX_REASON_CHARS]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _retry_after(headers: httpx.Headers) -> int | None:
    value = headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


def outcome(status: int, headers: httpx.Headers, raw: bytes, *, secret: str = "") -> Sent:
    """The send's result from Meta's answer, or raise the exception that says why not.

    In this order: a refused token (190, HTTP 401) → ``CredentialsRejected``;
    throttling (the rate codes, HTTP 429) → RATE_LIMITED; Meta's own failures (5xx,
    the transient codes, an answer that is not JSON) → UPSTREAM_ERROR; any other 4xx
    → ``ActionRejected`` at ``$.to``, ``$.template`` or ``$``.
    """
    payload = decode_json(raw)
    if 200 <= status < 300:
        return _sent(payload)
    error = MetaError.of(payload, secret)
    if error.code == INVALID_TOKEN or status == 401:
        raise CredentialsRejected(_credentials_reason(status, error))
    if error.code in RATE_CODES or status == 429:
        raise retriable(
            "RATE_LIMITED",
            f"Meta is throttling sends ({_label(status, error)})",
            _retry_after(headers) or DEFAULT_RETRY_AFTER,
        )
    if status == 408:
        raise retriable("UPSTREAM_TIMEOUT", "Meta timed out (HTTP 408)")
    if 300 <= status < 400:
        raise retriable(
            "UPSTREAM_ERROR", f"Meta redirected (HTTP {status}); redirects are not followed"
        )
    if status >= 500 or error.code in TRANSIENT_CODES or payload is NOT_JSON:
        detail = error.message or f"HTTP {status}"
        raise retriable(
            "UPSTREAM_ERROR",
            _clip(f"Meta failed ({_label(status, error)}): {detail}", MAX_REASON_CHARS),
            _retry_after(headers),
        )
    raise _rejection(status, error)


def _sent(payload: Any) -> Sent:
    if payload is NOT_JSON:
        raise retriable("UPSTREAM_ERROR", "Meta answered no JSON")
    messages = payload.get("messages") if isinstance(payload, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    message_id = first.get("id") if isinstance(first, dict) else None
    if not isinstance(message_id, str) or not message_id or len(message_id) > 255:
        raise retriable("UPSTREAM_ERROR", "Meta's answer names no message id")
    return Sent(provider_message_id=message_id)


def _label(status: int, error: MetaError) -> str:
    return f"code {error.code}" if error.code is not None else f"HTTP {status}"


def _credentials_reason(status: int, error: MetaError) -> str:
    # Meta's message is left out: it is about the token, and says nothing an operator
    # needs beyond the code and subcode (463 expired, 460 password changed, 467 invalid).
    subcode = f", subcode {error.subcode}" if error.subcode is not None else ""
    if error.code == INVALID_TOKEN:
        return (
            f"Meta error {INVALID_TOKEN}{subcode}: the access token is invalid or expired; "
            "save a new access_token"
        )
    code = f", code {error.code}" if error.code is not None else ""
    return f"Meta answered HTTP {status}{code}{subcode}: check the access_token"


def _rejection(status: int, error: MetaError) -> ActionRejected:
    code = error.code
    if code in RECIPIENT_CODES:
        path = "$.to"
    elif code == REENGAGEMENT or (code is not None and code in TEMPLATE_CODES):
        path = "$.template"
    else:
        path = "$"
    hint = f" ({REENGAGEMENT_HINT})" if code == REENGAGEMENT else ""
    label = f"Meta {code}" if code is not None else f"Meta HTTP {status}"
    reason = error.details or error.message or f"HTTP {status}"
    field_message = f"{label}: {reason}"
    field_message = _clip(field_message, MAX_REASON_CHARS - len(hint)) + hint
    prefix = "Meta refused the message: "
    detail = (
        prefix + _clip(error.message or reason, MAX_REASON_CHARS - len(prefix) - len(hint)) + hint
    )
    extra: dict[str, Any] = (
        {"provider_code": code} if code is not None else {"provider_status": status}
    )
    return ActionRejected(
        detail, errors=[FieldError(path=path, message=field_message)], extra=extra
    )


# -- receiving: verification -------------------------------------------------------------


def handshake(verify_token: str, query: Mapping[str, str]) -> InboundReply:
    """Meta's subscription check: echo ``hub.challenge`` when the token is ours."""
    mode = query.get("hub.mode", "")
    given = query.get("hub.verify_token", "")
    challenge = query.get("hub.challenge", "")
    token_holds = hmac.compare_digest(given.encode(), verify_token.encode())
    if mode != "subscribe" or not token_holds:
        raise ProblemError("FORBIDDEN", "the webhook verification does not hold")
    if not challenge or len(challenge) > MAX_CHALLENGE_CHARS or not challenge.isprintable():
        raise ProblemError("FORBIDDEN", "the webhook verification carries no usable challenge")
    return InboundReply(body=challenge.encode(), media_type="text/plain")


def signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise ``ProblemError("UNAUTHENTICATED")`` unless the raw body is signed with the
    app secret (checked before anything reads the body)."""
    given = headers.get("x-hub-signature-256")
    if not given:
        raise ProblemError("UNAUTHENTICATED", "the X-Hub-Signature-256 header is missing")
    expected = signature(app_secret, body).encode()
    if not hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected):
        raise ProblemError("UNAUTHENTICATED", "the webhook signature does not verify")


# -- receiving: events -------------------------------------------------------------------


def events_of(
    payload: Mapping[str, Any], account: str, received_at: datetime
) -> list[InboundEvent]:
    """The catalog events of one verified webhook call: every entry, change, message
    and status; an item that cannot be read is skipped, the others survive."""
    if payload.get("object") != "whatsapp_business_account":
        return []
    events: list[InboundEvent] = []
    skipped = 0
    for value in _message_changes(payload, account):
        names = _contact_names(value.get("contacts"))
        for item in _items(value.get("messages")):
            try:
                event = _received(item, account, names, received_at)
            except (KeyError, TypeError, ValueError, AttributeError, msgspec.ValidationError):
                event, skipped = None, skipped + 1
            if event is not None:
                events.append(event)
        for item in _items(value.get("statuses")):
            try:
                event = _status(item, account, received_at)
            except (KeyError, TypeError, ValueError, AttributeError, msgspec.ValidationError):
                event, skipped = None, skipped + 1
            if event is not None:
                events.append(event)
    if skipped:
        log.warning("Meta webhook items could not be read", extra={"skipped": skipped})
    return events


def _message_changes(payload: Mapping[str, Any], account: str) -> Iterator[dict[str, Any]]:
    """The ``value`` of each ``messages`` change of this phone number."""
    for entry in _items(payload.get("entry")):
        for change in _items(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue  # account_update, template status, ...: nothing to publish here
            phone_number_id = _dict(value.get("metadata")).get("phone_number_id")
            if phone_number_id != account:
                # One app's webhook serves every number of its business accounts: another
                # number's traffic is not this tenant's.
                log.info("a Meta webhook change for another phone number was ignored")
                continue
            yield value


def _items(values: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(values, list):
        return iter(())
    return (value for value in values if isinstance(value, dict))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, limit: int) -> str | None:
    """A non-empty string without NUL (refused by the hub), cut to ``limit``."""
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "")[:limit]
    return cleaned if cleaned.strip() else None


def _message_id(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 128 or "\x00" in value:
        raise ValueError("no usable message id")
    return value


def _phone(wa_id: Any) -> str | None:
    """``+<digits>`` of a WhatsApp id that is a phone number."""
    if isinstance(wa_id, str) and wa_id.isascii() and wa_id.isdigit() and 4 <= len(wa_id) <= 20:
        return "+" + wa_id
    return None


def _moment(value: Any, fallback: datetime) -> datetime:
    """Meta's timestamp (Unix seconds, written as a string) in UTC."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return fallback
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback
    return moment if in_range(moment) else fallback


def _contact_names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in _items(contacts):
        wa_id = contact.get("wa_id")
        name = _str(_dict(contact.get("profile")).get("name"), 200)
        if isinstance(wa_id, str) and name is not None:
            names[wa_id] = name
    return names


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})


def _content(item: dict[str, Any]) -> tuple[str, dict[str, Any] | None] | None:
    """The body and media metadata of a message; None for what is not a text, media or
    reply (reactions, locations, contacts, orders, system and unsupported messages)."""
    kind = item.get("type")
    if kind == "text":
        body = item["text"]["body"]
        if not isinstance(body, str):
            raise TypeError("text.body is not a string")
        return body.replace("\x00", ""), None
    if kind == "button":
        return _str(item["button"].get("text"), 20_000) or "", None
    if kind == "interactive":
        interactive = item["interactive"]
        reply_type = interactive.get("type")
        if reply_type not in ("button_reply", "list_reply"):
            return None  # a flow's answer (nfm_reply) and what may come
        return _str(_dict(interactive.get(reply_type)).get("title"), 20_000) or "", None
    if isinstance(kind, str) and kind in MEDIA_KINDS:
        return _media(kind, item[kind])
    return None


def _media(kind: str, media: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    caption = _str(media.get("caption"), 4096)
    # Metadata only: never the download URL (it carries Meta's access signature).
    metadata = {
        "kind": kind,
        "mime_type": _str(media.get("mime_type"), 255),
        "file_name": _str(media.get("filename"), 255),
        "caption": caption,
        "provider_media_id": _str(media.get("id"), 255),
        "sha256": _str(media.get("sha256"), 128),
    }
    return caption or "", _present(metadata)


def _received(
    item: dict[str, Any], account: str, names: Mapping[str, str], received_at: datetime
) -> InboundEvent | None:
    content = _content(item)
    if content is None:
        return None
    provider_id = _message_id(item.get("id"))
    body, media = content
    sender = item.get("from")
    name = names.get(sender) if isinstance(sender, str) else None
    if name is None and len(names) == 1:
        # The change's contacts are the senders of its messages.
        name = next(iter(names.values()))
    data = _present(
        {
            "message_id": provider_id,
            "channel": CHANNEL,
            "direction": "inbound",
            "contact_phone": _phone(sender),
            "contact_name": name,
            "body": body,
            "media": media,
            "provider": NAME,
            "provider_message_id": provider_id,
            "in_reply_to": _str(_dict(item.get("context")).get("id"), 255),
        }
    )
    msgspec.convert(data, Message)  # what the catalog would refuse is skipped here
    return InboundEvent(
        type="message.received",
        id=f"{account}:msg:{provider_id}",
        data=data,
        occurred_at=_moment(item.get("timestamp"), received_at),
    )


PUBLISHED_STATUSES = frozenset({"delivered", "read", "failed"})


def _status(item: dict[str, Any], account: str, received_at: datetime) -> InboundEvent | None:
    status = item.get("status")
    if status not in PUBLISHED_STATUSES:
        return None  # sent, deleted, warning, ...: nothing to publish
    provider_id = _message_id(item.get("id"))
    # The hub's id, echoed from the send; a message sent another way has the wamid only.
    opaque = item.get("biz_opaque_callback_data")
    try:
        message_id = _message_id(opaque)
    except ValueError:
        message_id = provider_id
    common = {
        "message_id": message_id,
        "channel": CHANNEL,
        "contact_phone": _phone(item.get("recipient_id")),
        "provider": NAME,
        "provider_message_id": provider_id,
    }
    data: dict[str, Any]
    if status == "failed":
        data = _present({**common, **_failure(item.get("errors"))})
        msgspec.convert(data, MessageFailed)
        event_type = "message.failed"
    else:
        data = _present({**common, "status": status})
        msgspec.convert(data, MessageStatusChanged)
        event_type = f"message.{status}"
    return InboundEvent(
        type=event_type,
        id=f"{account}:status:{provider_id}:{status}",
        data=data,
        occurred_at=_moment(item.get("timestamp"), received_at),
    )


def _failure(errors: Any) -> dict[str, Any]:
    first = next(_items(errors), {})
    code = _int(first.get("code"))
    return {
        "direction": "outbound",
        "body": "",
        "error_code": str(code) if code is not None else "UNKNOWN",
        "error_message": _str(first.get("title"), 1000) or _str(first.get("message"), 1000),
        "attempts": 1,
    }
