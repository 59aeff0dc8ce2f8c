"""The Evolution API v2 provider: a self-hosted WhatsApp Web gateway (Baileys).

Sending: ``POST {base_url}/message/sendText/{instance}`` with the instance's ``apikey``
and ``{"number": <digits>, "text": ...}``; the answer names the WhatsApp message id
(``key.id``). Evolution sends free text only: templates are Meta's.

Its errors are ``{"status", "error", "response": {"message": ...}}`` where ``message`` is
a string, a list of strings, a list holding the JSON Schema errors' list, or the
``{"jid", "exists": false, "number"}`` of a number that is not on WhatsApp (the
shapes of ``src/exceptions`` and ``src/main.ts`` in EvolutionAPI/evolution-api).

Receiving: Evolution's webhook calls carry whatever headers the instance's webhook was
configured with, so the admin sets either ``{"apikey": <inbound_secret>}`` or
``{"jwt_key": <inbound_secret>}`` (Evolution then sends ``Authorization: Bearer`` an
HS256 JWT signed with it, valid 10 minutes). The body is ``{"event", "instance",
"data", "date_time", "sender", "server_url", "apikey"}``; its own ``apikey`` is the
instance token, not a proof of anything, so it is never used to authenticate.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import msgspec

from hub.actions.handlers import ActionRejected
from hub.config import Settings
from hub.connectors.protocol import InboundEvent, InboundReply, InboundRequest
from hub.events.data import Message, MessageFailed, MessageStatusChanged
from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import in_range
from integrations.outbound import NOT_JSON, decode_json, pin, post
from integrations.whatsapp.config import EvolutionConfig
from integrations.whatsapp.phones import digits
from integrations.whatsapp.provider import CredentialsRejected, Outgoing, Sent, retriable

log = logging.getLogger("hub.integrations.whatsapp.evolution")

NAME = "evolution"
SEND_TIMEOUT_SECONDS = 10.0
MAX_REASON_CHARS = 300
DEFAULT_RETRY_AFTER = 60
JWT_LEEWAY_SECONDS = 60
CHANNEL = "whatsapp"
# "Not now" rather than "no": the same send may succeed later (429 is handled apart).
RETRIABLE_4XX = frozenset({408, 409, 423, 425})
# Evolution answers 400 with Baileys' error text when the WhatsApp session dropped
# mid-send ("Error: Connection Closed"): nothing was sent and a retry after the
# reconnect succeeds, so these are not the caller's error.
SESSION_ERRORS = ("connection closed", "connection terminated", "connection lost", "timed out")

_encoder = msgspec.json.Encoder()


class EvolutionProvider:
    """Evolution's wire format for the WhatsApp connector (``provider.Provider``)."""

    name = NAME

    def __init__(self, timeout_seconds: float = SEND_TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds

    async def send(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        config: EvolutionConfig,
        message: Outgoing,
    ) -> Sent:
        text = _text_to_send(message)
        url = f"{config.base_url.rstrip('/')}/message/sendText/{_instance_segment(config)}"
        try:
            target = await pin(url, settings, path="$.config.base_url")
        except ProblemError as exc:
            raise retriable(
                "TARGET_NOT_ALLOWED", f"the Evolution base_url is not allowed: {exc.detail}"
            ) from None
        body = _encoder.encode({"number": digits(message.to), "text": text})
        headers = {"content-type": "application/json", "apikey": config.api_key}
        if message.idempotency_key:
            # Stable across retries, for whatever dedupes in front of Evolution: Evolution
            # itself (through v2.3.6) does not read it, so it does not dedupe sends.
            headers["X-Idempotency-Key"] = message.idempotency_key
        answer = await post(
            client,
            target,
            party="Evolution",
            seconds=self.timeout_seconds,
            headers=headers,
            content=body,
        )
        status, response_headers, raw = answer.status, answer.headers, answer.body
        return _outcome(status, response_headers, raw)

    async def receive(self, config: EvolutionConfig, request: InboundRequest) -> InboundReply:
        if request.method.upper() != "POST":
            raise ProblemError("NOT_FOUND")  # Evolution verifies no URL before using it
        authenticate(config.inbound_secret, request.headers)
        body = decode_json(request.body)
        if not isinstance(body, dict):
            # Authentic but unreadable: answered 200 so Evolution does not retry it forever.
            log.warning("an Evolution webhook call is not a JSON object; nothing published")
            return _ok()
        instance = body.get("instance")
        if isinstance(instance, str) and instance != config.instance:
            # A global webhook sends every instance's events to every URL it names.
            log.info("an Evolution webhook call for another instance was ignored")
            return _ok()
        return _ok(events_of(body, config.instance, request.received_at))


def _ok(events: list[InboundEvent] | None = None) -> InboundReply:
    return InboundReply(events=events or [], status=200, body=b"ok", media_type="text/plain")


# -- sending --------------------------------------------------------------------------


def _text_to_send(message: Outgoing) -> str:
    if message.template is not None:
        reason = "Evolution sends free text only: templates are Meta's WhatsApp Cloud API"
        raise ActionRejected(reason, errors=[FieldError(path="$.template", message=reason)])
    if not message.text:
        reason = "a text is required"
        raise ActionRejected(reason, errors=[FieldError(path="$.text", message=reason)])
    return message.text


def _instance_segment(config: EvolutionConfig) -> str:
    # The config's pattern allows "." and "..", which a URL path would resolve away
    # (the call would reach another route): no send can work until an admin fixes it.
    if config.instance in (".", ".."):
        raise CredentialsRejected("the instance name is not a valid path segment")
    return config.instance


def _outcome(status: int, headers: httpx.Headers, raw: bytes) -> Sent:
    """The send's result from Evolution's answer, or the exception that says why not."""
    payload = decode_json(raw)
    if 200 <= status < 300:
        return _sent(payload)
    messages = _messages(payload)
    extra = {"provider_status": status}
    if status in (401, 403):
        raise CredentialsRejected(f"Evolution refused the API key (HTTP {status})")
    if status == 404:
        raise CredentialsRejected(
            "instance not found (HTTP 404): check the instance name and base_url"
        )
    if status == 429:
        raise retriable(
            "RATE_LIMITED",
            "Evolution is throttling sends (HTTP 429)",
            _retry_after(headers) or DEFAULT_RETRY_AFTER,
        )
    if status == 408:
        raise retriable("UPSTREAM_TIMEOUT", "Evolution timed out (HTTP 408)")
    if 400 <= status < 500 and status not in RETRIABLE_4XX:
        if any(_not_on_whatsapp(item) for item in messages):
            reason = "not a WhatsApp number"
            raise ActionRejected(
                f"Evolution refused the recipient: {reason}",
                errors=[FieldError(path="$.to", message=reason)],
                extra=extra,
            )
        reason = _reason(messages, payload, status)
        if any(marker in reason.lower() for marker in SESSION_ERRORS):
            raise retriable(
                "UPSTREAM_ERROR", f"Evolution's WhatsApp session is not connected: {reason}"
            )
        raise ActionRejected(
            f"Evolution rejected the message: {reason}",
            errors=[FieldError(path="$", message=reason)],
            extra=extra,
        )
    if 300 <= status < 400:
        raise retriable(
            "UPSTREAM_ERROR", f"Evolution redirected (HTTP {status}); redirects are not followed"
        )
    raise retriable(
        "UPSTREAM_ERROR",
        f"Evolution failed: {_reason(messages, payload, status)}",
        _retry_after(headers),
    )


def _sent(payload: Any) -> Sent:
    if payload is NOT_JSON:
        raise retriable("UPSTREAM_ERROR", "Evolution answered no JSON")
    key = payload.get("key") if isinstance(payload, dict) else None
    message_id = key.get("id") if isinstance(key, dict) else None
    if not isinstance(message_id, str) or not message_id or len(message_id) > 255:
        raise retriable("UPSTREAM_ERROR", "Evolution's answer names no message id")
    return Sent(provider_message_id=message_id)


def _messages(payload: Any) -> list[Any]:
    """``response.message`` as a list (Evolution writes one value or a list of them)."""
    response = payload.get("response") if isinstance(payload, dict) else None
    message = response.get("message") if isinstance(response, dict) else None
    if message is None:
        return []
    return message if isinstance(message, list) else [message]


def _not_on_whatsapp(item: Any) -> bool:
    return isinstance(item, dict) and item.get("exists") is False


def _strings(items: list[Any]) -> Iterator[str]:
    """The texts of Evolution's messages: strings, and the lists of schema errors."""
    for item in items:
        if isinstance(item, str):
            yield item
        elif isinstance(item, list):
            yield from (value for value in item if isinstance(value, str))


def _reason(messages: list[Any], payload: Any, status: int) -> str:
    text = "; ".join(value.strip() for value in _strings(messages) if value.strip())
    if not text and isinstance(payload, dict) and isinstance(payload.get("error"), str):
        text = payload["error"].strip()
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)[:MAX_REASON_CHARS]
    return cleaned.strip() or f"HTTP {status}"


def _retry_after(headers: httpx.Headers) -> int | None:
    value = headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


# -- receiving: authentication ---------------------------------------------------------


def authenticate(secret: str, headers: Mapping[str, str]) -> None:
    """Accept the ``apikey`` header equal to the secret, or a Bearer HS256 JWT signed with
    it; raise ``ProblemError("UNAUTHENTICATED")`` otherwise."""
    key = secret.encode()
    given = headers.get("apikey")
    if given is not None and hmac.compare_digest(given.encode(), key):
        return
    token = _bearer(headers.get("authorization", ""))
    if token is not None and _jwt_holds(token, secret):
        return
    raise ProblemError("UNAUTHENTICATED", "the webhook carries no valid apikey or JWT")


def _bearer(value: str) -> str | None:
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _jwt_holds(token: str, secret: str) -> bool:
    try:
        # One algorithm only: "none" and the others a forger could pick are refused.
        # PyJWT compares the HMAC in constant time.
        jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp"], "verify_exp": True},
            leeway=JWT_LEEWAY_SECONDS,
        )
    except jwt.PyJWTError:
        return False
    return True


# -- receiving: events -------------------------------------------------------------------


def event_name(body: Mapping[str, Any]) -> str | None:
    """``messages.upsert`` for both spellings Evolution uses (``MESSAGES_UPSERT``)."""
    name = body.get("event")
    if not isinstance(name, str):
        return None
    return name.strip().lower().replace("_", ".").replace("-", ".")


def connection_state(body: dict[str, Any]) -> str | None:
    """The instance's state (``open``, ``connecting``, ``close``) of a connection.update."""
    if event_name(body) != "connection.update":
        return None
    data = body.get("data")
    state = data.get("state") if isinstance(data, dict) else None
    return state if isinstance(state, str) else None


def events_of(body: Mapping[str, Any], account: str, received_at: datetime) -> list[InboundEvent]:
    """The catalog events of one webhook call; an item that cannot be read is skipped."""
    name = event_name(body)
    if name == "messages.upsert":
        read = _received
    elif name == "messages.update":
        read = _status
    else:
        return []  # send.message, connection.update, ...: nothing to publish here
    events: list[InboundEvent] = []
    skipped = 0
    for item in _items(body.get("data")):
        try:
            event = read(item, account, received_at)
        except (KeyError, TypeError, ValueError, AttributeError, msgspec.ValidationError):
            event, skipped = None, skipped + 1
        if event is not None:
            events.append(event)
    if skipped:
        log.warning(
            "Evolution webhook items could not be read", extra={"event": name, "skipped": skipped}
        )
    return events


def _items(data: Any) -> Iterator[dict[str, Any]]:
    values = data if isinstance(data, list) else [data]
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


# 1:1 chats only: groups (g.us), status broadcasts and channels (newsletter) are not a
# lead's conversation. ``lid`` is WhatsApp's privacy id for a person.
_PERSON_DOMAINS = frozenset({"s.whatsapp.net", "c.us", "lid"})
_PHONE_JID = re.compile(r"^([0-9]{4,20})(?::[0-9]+)?@(?:s\.whatsapp\.net|c\.us)$")


def _is_person(jid: Any) -> bool:
    return isinstance(jid, str) and jid.rpartition("@")[2] in _PERSON_DOMAINS


def _phone(*jids: Any) -> str | None:
    """``+<digits>`` of the first phone JID (a ``lid`` chat names it in an alternate)."""
    for jid in jids:
        match = _PHONE_JID.match(jid) if isinstance(jid, str) else None
        if match:
            return "+" + match.group(1)
    return None


def _moment(value: Any, fallback: datetime) -> datetime:
    """Baileys' seconds (a number, a numeric string or a Long ``{low, high}``) in UTC."""
    if isinstance(value, dict) and isinstance(value.get("low"), int):
        value = (value["low"] & 0xFFFFFFFF) + (int(value.get("high") or 0) << 32)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fallback
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback
    return moment if in_range(moment) else fallback


def _sha256(value: Any) -> str | None:
    """The file's SHA-256 as Evolution gives it (base64), or base64 of the bytes a
    ``Uint8Array`` becomes in JSON (``{"0": 12, "1": 34, ...}``)."""
    if isinstance(value, str):
        return value if 0 < len(value) <= 128 else None
    if isinstance(value, dict) and value and all(key.isdigit() for key in value):
        value = [value[key] for key in sorted(value, key=int)]
    if isinstance(value, list) and 0 < len(value) <= 64 and all(_byte(b) for b in value):
        return base64.b64encode(bytes(value)).decode()
    return None


def _byte(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255


_MEDIA_KINDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "ptvMessage": "video",  # a round video note
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
}
# Envelopes around the content (disappearing, view-once, a document with a caption).
_WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)


def _unwrapped(message: dict[str, Any]) -> dict[str, Any]:
    for _ in range(3):
        inner = next(
            (message[name] for name in _WRAPPERS if isinstance(message.get(name), dict)), None
        )
        if inner is None or not isinstance(inner.get("message"), dict):
            return message
        message = inner["message"]
    return message


def _content(
    message: dict[str, Any], provider_id: str
) -> tuple[str, dict[str, Any] | None, dict[str, Any]] | None:
    """The body, the media metadata and the content's contextInfo; None for what is not
    a text or media (reactions, locations, polls, protocol messages)."""
    text = _str(message.get("conversation"), 20_000)
    if text is not None:
        return text, None, {}
    extended = _dict(message.get("extendedTextMessage"))
    text = _str(extended.get("text"), 20_000)
    if text is not None:
        return text, None, _dict(extended.get("contextInfo"))
    for field, kind in _MEDIA_KINDS.items():
        media = message.get(field)
        if isinstance(media, dict):
            return _media(kind, media, provider_id)
    return None


def _media(
    kind: str, media: dict[str, Any], provider_id: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    caption = _str(media.get("caption"), 4096)
    # Metadata only: never the URL, the media key or the thumbnail. Evolution serves
    # the file by the message's id (POST /chat/getBase64FromMediaMessage), so that id
    # is the media's handle.
    metadata = {
        "kind": kind,
        "mime_type": _str(media.get("mimetype"), 255),
        "file_name": _str(media.get("fileName"), 255),
        "caption": caption,
        "provider_media_id": provider_id[:255],
        "sha256": _sha256(media.get("fileSha256")),
    }
    return caption or "", _present(metadata), _dict(media.get("contextInfo"))


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _received(item: dict[str, Any], account: str, received_at: datetime) -> InboundEvent | None:
    key = item["key"]
    if key.get("fromMe") is not False or not _is_person(key.get("remoteJid")):
        return None  # our own messages (sent by the hub or the phone), groups, broadcasts
    provider_id = _message_id(key.get("id"))
    content = _content(_unwrapped(_dict(item.get("message"))), provider_id)
    if content is None:
        return None
    body, media, context = content
    # Evolution lifts the content's contextInfo to the item; older versions leave it in.
    quoted = _dict(item.get("contextInfo")).get("stanzaId") or context.get("stanzaId")
    data = _present(
        {
            "message_id": provider_id,
            "channel": CHANNEL,
            "direction": "inbound",
            "contact_phone": _phone(
                key.get("remoteJid"), key.get("remoteJidAlt"), key.get("senderPn")
            ),
            "contact_name": _str(item.get("pushName"), 200),
            "body": body,
            "media": media,
            "provider": NAME,
            "provider_message_id": provider_id,
            "in_reply_to": _str(quoted, 255),
        }
    )
    msgspec.convert(data, Message)  # what the catalog would refuse is skipped here
    return InboundEvent(
        type="message.received",
        id=f"{account}:msg:{provider_id}",
        data=data,
        occurred_at=_moment(item.get("messageTimestamp"), received_at),
    )


# Baileys' numeric statuses, for payloads that carry them unnamed.
_STATUS_NAMES = {
    0: "ERROR",
    1: "PENDING",
    2: "SERVER_ACK",
    3: "DELIVERY_ACK",
    4: "READ",
    5: "PLAYED",
}
_STATUSES = {"DELIVERY_ACK": "delivered", "READ": "read", "PLAYED": "read", "ERROR": "failed"}


def _status(item: dict[str, Any], account: str, received_at: datetime) -> InboundEvent | None:
    key = _dict(item.get("key"))
    raw = item.get("status")
    status = _STATUSES.get(_STATUS_NAMES.get(raw, "") if isinstance(raw, int) else str(raw))
    if status is None:
        return None  # PENDING, SERVER_ACK (our "sent"), DELETED: nothing to publish
    from_me = item.get("fromMe", key.get("fromMe"))
    remote = item.get("remoteJid", key.get("remoteJid"))
    if from_me is not True or not _is_person(remote):
        return None  # statuses of messages the lead sent (our read receipts), groups
    provider_id = _message_id(item.get("keyId") or key.get("id"))
    common = {
        # Evolution does not echo the hub's message id: the provider's stands in for it.
        "message_id": provider_id,
        "channel": CHANNEL,
        "contact_phone": _phone(remote, item.get("remoteJidAlt", key.get("remoteJidAlt"))),
        "provider": NAME,
        "provider_message_id": provider_id,
    }
    data: dict[str, Any]
    if status == "failed":
        data = _present(
            {
                **common,
                "direction": "outbound",
                "body": "",
                "error_code": "ERROR",
                "error_message": "WhatsApp reported the message as not sent",
                "attempts": 1,
            }
        )
        msgspec.convert(data, MessageFailed)
        event_type = "message.failed"
    else:
        data = _present({**common, "status": status})
        msgspec.convert(data, MessageStatusChanged)
        event_type = f"message.{status}"
    # messages.update carries no time of its own, and the call's date_time is the
    # Evolution server's local wall clock written with a "Z": the arrival time is truer.
    return InboundEvent(
        type=event_type,
        id=f"{account}:status:{provider_id}:{status}",
        data=data,
        occurred_at=received_at,
    )
