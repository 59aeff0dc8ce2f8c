"""The Mailgun provider (Mailgun's v3 messages API).

Sending: ``POST {api_url}/v3/{domain}/messages.mime`` as ``multipart/form-data`` with
basic auth ``api:{api_key}``: ``to`` once per recipient (To, Cc and Bcc: the envelope),
``message`` the hub's whole RFC 5322 message as a file — so its ``Message-ID`` and
``X-Hub-*`` headers travel untouched — and the user variable ``v:hub_message_id``
(Mailgun documents ``v:`` fields for messages.mime too, and echoes them in every event's
``user-variables``). Mailgun answers ``200 {"id": "<Message-ID>", "message": "Queued.
Thank you."}``.

Its errors are ``{"message": "..."}`` (a plain ``Forbidden`` for a wrong key): see
``outcome`` for how each becomes the hub's answer.

Receiving: Mailgun's webhooks post ``{"signature": {"timestamp", "token", "signature"},
"event-data": {...}}``, one event per call. ``signature`` is the hex HMAC-SHA256 of
timestamp + token with the webhook signing key; the timestamp must lie within 15
minutes of now and each token is accepted once (remembered in Redis), as Mailgun's
"Securing Webhooks" recommends, so a captured call cannot be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

import httpx
import msgspec

from hub.actions.handlers import ActionFailed, ActionRejected, RetriableCode
from hub.config import Settings
from hub.connectors.protocol import InboundEvent, InboundReply, InboundRequest
from hub.events.data import EmailBounced, EmailComplained, EmailEvent, EmailRejected
from hub.runtime import Runtime
from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import in_range
from integrations.email.config import MailgunConfig
from integrations.email.provider import CredentialsRejected, OutgoingEmail, Sent
from integrations.outbound import NOT_JSON, decode_json, pin, post

log = logging.getLogger("hub.integrations.email.mailgun")

NAME = "mailgun"
SEND_TIMEOUT_SECONDS = 30.0  # the MIME is uploaded whole
MAX_REASON_CHARS = 300
DEFAULT_RETRY_AFTER = 60
MAX_RETRY_AFTER = 3600
RETRIABLE_4XX = frozenset({409, 423, 425})
USER_VARIABLE = "hub_message_id"
# A signed call is accepted this far from now (either way); its token is remembered
# for as long as it could still be fresh.
FRESHNESS = timedelta(minutes=15)
TOKEN_MEMORY_SECONDS = int(2 * FRESHNESS.total_seconds())
MAX_TOKEN_CHARS = 256
# Mailgun's messages that name the recipients (so the caller's ``to`` is at fault).
# Mailgun's 400 texts that name a recipient list (its "Error codes" table), most
# specific first: "bcc parameter ..." also holds "cc parameter".
RECIPIENT_MARKERS = (
    ("bcc parameter", "$.bcc"),
    ("cc parameter", "$.cc"),
    ("to parameter", "$.to"),
    ("'to'", "$.to"),
    ("too many recipients", "$.to"),
    ("large batches", "$.to"),
    ("recipient", "$.to"),
)
# "Domain x is not allowed to send: <why>" (a sandbox or free account, an unverified
# domain, an inactive account): nothing can be sent until an admin fixes the account.
NOT_ALLOWED = "is not allowed to send"
MAX_QUOTA_WAIT = 24 * 3600

_ADDRESS = re.compile(r"[^\s<>@\"',;:()\[\]]+@[^\s<>@\"',;:()\[\]]+")
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class MailgunProvider:
    """Mailgun's wire format for the e-mail connector (``provider.EmailProvider``)."""

    name = NAME

    def __init__(self, timeout_seconds: float = SEND_TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds

    async def send(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        config: MailgunConfig,
        message: OutgoingEmail,
    ) -> Sent:
        recipients = envelope(message)
        raw = message.rfc822()
        if not raw:
            reason = "the message has no MIME body"
            raise ActionRejected(reason, errors=[FieldError(path="$", message=reason)])
        url = f"{config.api_url.rstrip('/')}/v3/{config.domain}/messages.mime"
        try:
            target = await pin(url, settings, path="$.config.api_url")
        except ProblemError as exc:
            raise ActionFailed(
                "TARGET_NOT_ALLOWED", f"the Mailgun api_url is not allowed: {exc.detail}"
            ) from None
        credentials = base64.b64encode(f"api:{config.api_key}".encode()).decode()
        headers = {
            "accept": "application/json",
            "authorization": f"Basic {credentials}",
        }
        fields: dict[str, Any] = {"to": recipients, f"v:{USER_VARIABLE}": message.message_id}
        files = {"message": ("message.mime", raw, "message/rfc822")}
        answer = await post(
            client,
            target,
            party="Mailgun",
            seconds=self.timeout_seconds,
            headers=headers,
            data=fields,
            files=files,
        )
        status, response_headers, raw = answer.status, answer.headers, answer.body
        return outcome(status, response_headers, raw, message, secret=config.api_key)

    async def receive(
        self, rt: Runtime, config: MailgunConfig, request: InboundRequest
    ) -> InboundReply:
        if request.method.upper() != "POST":
            raise ProblemError("METHOD_NOT_ALLOWED", "Mailgun's webhooks are POST")
        payload = decode_json(request.body)
        token_key = await authenticate(rt, config.webhook_signing_key, payload)
        assert isinstance(payload, dict)  # authenticate refuses anything else
        event_data = payload.get("event-data")
        if not isinstance(event_data, dict):
            log.warning("a signed Mailgun webhook call carries no event-data; nothing published")
            return _ok(on_stored=remember(rt, token_key))
        return _ok(events_of(event_data, request.received_at), on_stored=remember(rt, token_key))


def _ok(
    events: list[InboundEvent] | None = None,
    on_stored: Callable[[], Awaitable[None]] | None = None,
) -> InboundReply:
    return InboundReply(
        events=events or [], status=200, body=b"ok", media_type="text/plain", on_stored=on_stored
    )


# -- sending ---------------------------------------------------------------------------


def envelope(message: OutgoingEmail) -> list[str]:
    """Every recipient once (To, Cc, Bcc), bare addresses."""
    seen: set[str] = set()
    out: list[str] = []
    for value in (*message.to, *message.cc, *message.bcc):
        address = parseaddr(value)[1] or value.strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    if not out:
        reason = "at least one recipient is required"
        raise ActionRejected(reason, errors=[FieldError(path="$.to", message=reason)])
    return out


def _clean(value: Any, secret: str = "") -> str:
    """Printable, short, no address (Mailgun quotes the bad ones), never the key."""
    if not isinstance(value, str):
        return ""
    if secret:
        value = value.replace(secret, "[redacted]")
    value = _ADDRESS.sub("[address]", value)
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(cleaned.split())[:MAX_REASON_CHARS]


def _clip(text: str, limit: int = MAX_REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _retry_after(headers: httpx.Headers, said: str = "", now: float | None = None) -> int | None:
    """``Retry-After``, else the moment Mailgun's 429 text names ("... limit exceeded,
    try again after Mon, 20 Dec 2021 20:33:21 UTC")."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(max(int(value), 1), MAX_RETRY_AFTER)
    _, found, when = said.partition("try again after ")
    if not found:
        return None
    try:
        moment = parsedate_to_datetime(when.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp() - (time.time() if now is None else now))
    return min(max(seconds, 1), MAX_QUOTA_WAIT)


def _failed(code: RetriableCode, detail: str, retry_after: int | None = None) -> ActionFailed:
    return ActionFailed(code, _clip(detail), retry_after=retry_after)


def bare_id(value: str) -> str:
    """A Message-ID without its angle brackets (how Mailgun's events write it)."""
    return value.strip().removeprefix("<").removesuffix(">").strip()


def outcome(
    status: int,
    headers: httpx.Headers,
    raw: bytes,
    message: OutgoingEmail,
    *,
    secret: str = "",
) -> Sent:
    """The send's result from Mailgun's answer, or raise the exception that says why not.

    2xx → ``Sent`` (the id, without brackets, as the events write it); 401/403 →
    ``CredentialsRejected``; 404 → ``CredentialsRejected`` (the domain is not the key's,
    or the region's api_url is wrong); 429 → RATE_LIMITED; 408 → UPSTREAM_TIMEOUT; 3xx,
    5xx and 4xx answers that are not Mailgun's → UPSTREAM_ERROR; 400, 413 and the other
    4xx → ``ActionRejected`` (at ``$.to`` when Mailgun names the recipients).
    """
    payload = decode_json(raw)
    if 200 <= status < 300:
        given = payload.get("id") if isinstance(payload, dict) else None
        provider_id = bare_id(given) if isinstance(given, str) else ""
        if not provider_id or len(provider_id) > 255 or not provider_id.isprintable():
            # Accepted all the same (a retry would send it twice); for messages.mime
            # Mailgun's id is the message's own Message-ID.
            log.warning("Mailgun accepted a message without naming its id")
            provider_id = bare_id(message.rfc822_message_id)
        return Sent(provider_message_id=provider_id)
    said = _clean(payload.get("message"), secret) if isinstance(payload, dict) else ""
    if not said and payload is NOT_JSON:
        said = _clean(raw[:200].decode("utf-8", "replace"), secret)
    label = f"HTTP {status}"
    lowered = said.lower()
    if status == 403 and "large batches" in lowered:
        raise _rejection(status, said)  # a smaller send works: the account is warming up
    if status in (401, 403) or (status == 400 and NOT_ALLOWED in lowered):
        detail = f": {said}" if said else ""
        raise CredentialsRejected(
            _clip(f"Mailgun answered {label}{detail}; check the api_key and the domain")
        )
    if status == 404:
        raise CredentialsRejected(
            f"domain not found (Mailgun {label}): check the domain and the api_url "
            "(EU domains use https://api.eu.mailgun.net)"
        )
    if status == 429:
        raise _failed(
            "RATE_LIMITED",
            f"Mailgun is throttling sends ({label}){': ' + said if said else ''}",
            _retry_after(headers, said) or DEFAULT_RETRY_AFTER,
        )
    if status == 408:
        raise _failed("UPSTREAM_TIMEOUT", f"Mailgun timed out ({label})")
    if 300 <= status < 400:
        raise _failed("UPSTREAM_ERROR", f"Mailgun redirected ({label}); redirects are not followed")
    if status == 413:
        raise _rejection(status, said or "the message is too large for Mailgun")
    if (
        status >= 500
        or status < 400
        or status in RETRIABLE_4XX
        or not isinstance(payload, dict)
        or not said
    ):
        raise _failed(
            "UPSTREAM_ERROR",
            f"Mailgun failed ({label}){': ' + said if said else ''}",
            _retry_after(headers),
        )
    raise _rejection(status, said)


def _rejection(status: int, said: str) -> ActionRejected:
    lowered = said.lower()
    path = next((path for marker, path in RECIPIENT_MARKERS if marker in lowered), "$")
    return ActionRejected(
        _clip(f"Mailgun refused the message: {said}"),
        errors=[FieldError(path=path, message=_clip(f"Mailgun: {said}"))],
        extra={"provider_status": status},
    )


# -- receiving: verification -------------------------------------------------------------


def signature(signing_key: str, timestamp: str, token: str) -> str:
    """The ``signature.signature`` Mailgun sends with this timestamp and token."""
    return hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def _signed_parts(payload: Any) -> tuple[str, str, str]:
    block = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(block, dict):
        raise ProblemError("UNAUTHENTICATED", "the call carries no Mailgun signature")
    timestamp, token, given = block.get("timestamp"), block.get("token"), block.get("signature")
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        timestamp = str(timestamp)
    if (
        not isinstance(timestamp, str)
        or not timestamp.isascii()
        or not timestamp.isdigit()
        or len(timestamp) > 12
        or not isinstance(token, str)
        or not 0 < len(token) <= MAX_TOKEN_CHARS
        or not token.isascii()
        or not token.isprintable()
        or not isinstance(given, str)
        or not _HEX.match(given)
    ):
        raise ProblemError("UNAUTHENTICATED", "the Mailgun signature is incomplete")
    return timestamp, token, given


async def authenticate(rt: Runtime, signing_key: str | None, payload: Any) -> str:
    """Raise ``ProblemError("UNAUTHENTICATED")`` unless the call is signed with the
    signing key, fresh, and its token was never accepted before; the token's Redis key
    (remembered only once the call's events are stored: ``remember``), so a retry of a
    call the hub could not store (503) is still accepted."""
    if not signing_key:
        raise ProblemError(
            "UNAUTHENTICATED", "no webhook_signing_key is configured: the call cannot be verified"
        )
    timestamp, token, given = _signed_parts(payload)
    expected = signature(signing_key, timestamp, token)
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise ProblemError("UNAUTHENTICATED", "the webhook signature does not verify")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(rt.clock.now() - signed_at) > FRESHNESS:
        raise ProblemError("UNAUTHENTICATED", "the webhook signature is stale")
    key = rt.keys.custom("mailgun-token", token)
    if await rt.redis.exists(key):
        raise ProblemError("UNAUTHENTICATED", "the webhook call was replayed")
    return key


def remember(rt: Runtime, key: str) -> Callable[[], Awaitable[None]]:
    async def stored() -> None:
        await rt.redis.set(key, "1", ex=TOKEN_MEMORY_SECONDS)

    return stored


# -- receiving: events -------------------------------------------------------------------


def _str(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "")[:limit]
    return cleaned.strip() if cleaned.strip() else None


def _token(value: Any, limit: int = 128) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable():
        return value
    return None


def _address(value: Any) -> str | None:
    if isinstance(value, str):
        address = value.strip()
        if 3 <= len(address) <= 320 and "@" in address and address.isprintable():
            return address
    return None


def _moment(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fallback
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback
    return moment if in_range(moment) else fallback


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


PUBLISHED = frozenset({"delivered", "failed", "complained", "rejected"})


def events_of(event_data: Mapping[str, Any], received_at: datetime) -> list[InboundEvent]:
    """The catalog events of one verified event (one per recipient); what cannot be
    read is skipped and counted."""
    kind = event_data.get("event")
    if kind not in PUBLISHED:
        return []  # accepted, opened, clicked, unsubscribed, stored, ...: nothing
    try:
        recipients, built = _common(event_data)
    except (KeyError, TypeError, ValueError, AttributeError):
        log.warning("a Mailgun event could not be read", extra={"skipped": 1})
        return []
    events: list[InboundEvent] = []
    skipped = 0
    for recipient in recipients:
        try:
            event = _event(str(kind), event_data, built, recipient, len(recipients) > 1)
        except (KeyError, TypeError, ValueError, AttributeError, msgspec.ValidationError):
            event, skipped = None, skipped + 1
        if event is not None:
            events.append(event)
    if skipped:
        log.warning("Mailgun event recipients could not be read", extra={"skipped": skipped})
    if not events:
        return []
    occurred_at = _moment(event_data.get("timestamp"), received_at)
    return [
        InboundEvent(type=e.type, id=e.id, data=e.data, occurred_at=occurred_at) for e in events
    ]


def _common(event_data: Mapping[str, Any]) -> tuple[list[str | None], dict[str, Any]]:
    event_id = _token(event_data.get("id"), 200)
    if event_id is None:
        raise ValueError("no event id")
    headers = _dict(_dict(event_data.get("message")).get("headers"))
    given = headers.get("message-id")
    provider_id = _token(bare_id(given), 255) if isinstance(given, str) else None
    hub_id = _token(_dict(event_data.get("user-variables")).get(USER_VARIABLE))
    message_id = hub_id or (provider_id[:128] if provider_id else None)
    if message_id is None:
        raise ValueError("no message id")
    recipients: list[str | None]
    recipient = event_data.get("recipient")
    if recipient is not None:
        recipients = [_address(recipient)]
    else:
        # A rejected message names no recipient: its To header does.
        to = headers.get("to")
        parsed = [address for _, address in getaddresses([to])] if isinstance(to, str) else []
        recipients = [_address(address) for address in parsed if address] or [None]
    built = _present(
        {
            "event_id": event_id,
            "message_id": message_id,
            "provider": NAME,
            "provider_message_id": provider_id,
            "rfc822_message_id": f"<{provider_id}>" if provider_id else None,
            "subject": _str(headers.get("subject"), 1000),
        }
    )
    return recipients, built


def _event(
    kind: str,
    event_data: Mapping[str, Any],
    built: Mapping[str, Any],
    recipient: str | None,
    several: bool,
) -> InboundEvent:
    if recipient is None:
        raise ValueError("no usable recipient")
    common = {name: value for name, value in built.items() if name != "event_id"}
    common["recipient"] = recipient
    data: dict[str, Any]
    if kind == "delivered":
        event_type, data = "email.delivered", common
        msgspec.convert(data, EmailEvent)
    elif kind == "failed":
        severity = event_data.get("severity")
        if severity not in ("permanent", "temporary"):
            raise ValueError("a failure of unknown severity")
        data = _present(
            {
                **common,
                "bounce_type": "hard" if severity == "permanent" else "soft",
                "diagnostic": _diagnostic(event_data),
            }
        )
        event_type = "email.bounced"
        msgspec.convert(data, EmailBounced)
    elif kind == "complained":
        event_type, data = "email.complained", {**common, "feedback_type": "abuse"}
        msgspec.convert(data, EmailComplained)
    else:
        reject = _dict(event_data.get("reject"))
        reason = _str(reject.get("reason"), 500) or _str(reject.get("description"), 500)
        data = _present({**common, "reason": reason})
        event_type = "email.rejected"
        msgspec.convert(data, EmailRejected)
    suffix = f":{recipient}" if several else ""
    return InboundEvent(type=event_type, id=f"{NAME}:{built['event_id']}{suffix}", data=data)


def _diagnostic(event_data: Mapping[str, Any]) -> str | None:
    """The receiving server's words: ``delivery-status`` code and message (or
    Mailgun's description of why it did not try, e.g. a suppressed address)."""
    status = _dict(event_data.get("delivery-status"))
    text = _str(status.get("message"), 2000) or _str(status.get("description"), 2000)
    code = status.get("code")
    if text and isinstance(code, int) and not isinstance(code, bool) and str(code) not in text:
        text = f"{code} {text}"[:2000]
    return text or _str(event_data.get("reason"), 2000)
