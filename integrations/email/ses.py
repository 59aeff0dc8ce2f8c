"""Amazon SES for the e-mail connector: SESv2 ``SendEmail`` out, SNS notifications in.

Sending: one SESv2 ``SendEmail`` (``POST /v2/email/outbound-emails``, SigV4) through
aiobotocore with the tenant's access key, carrying the message exactly as the connector
built it (``Content.Raw.Data``: the hub's ``Message-ID`` and headers travel untouched),
the envelope recipients in ``Destination`` (Bcc only there), the configuration set when
one is configured, and the hub's message id as the ``hub_message_id`` message tag —
SES echoes it in ``mail.tags`` of every event it publishes through the configuration
set. The answer's ``MessageId`` is SES's id of the message. botocore does not retry
(``total_max_attempts`` 1): the hub's own retry rules apply, and the whole call has one
deadline. An ``endpoint_url`` (a VPC endpoint, or moto in tests) goes through the SSRF
guard at every send and the connection is pinned to the addresses that were checked
(an aiohttp resolver that knows only them; TLS still verifies the name); without one,
botocore's regional AWS endpoint is used, never one from the environment or
``~/.aws/config``.

SES's errors (botocore ``ClientError`` codes) become the hub's answers in ``failure``:

=====================================================  =====================================
SES / AWS error                                        the hub's answer
=====================================================  =====================================
TooManyRequestsException, Throttling(Exception),       RATE_LIMITED, retry after 60 s
LimitExceededException (HTTP 429)                      (QUOTA_EXCEEDED, retry after 1 h, when
                                                       SES says the daily quota is spent)
SendingPausedException                                 ``ConnectorUnusable``: the account's or
                                                       configuration set's sending is paused
                                                       (by AWS for reputation, or by an
                                                       admin); nothing can be sent until an
                                                       admin resumes it, so the connector's
                                                       circuit opens — but the credentials
                                                       are fine, so not ``CredentialsRejected``
AccountSuspendedException, UnrecognizedClientException,  ``CredentialsRejected`` (the reason
InvalidClientTokenId, SignatureDoesNotMatch,           names the code, never a key)
AccessDenied(Exception), ExpiredToken(Exception), any
other HTTP 401/403
InternalFailure, ServiceUnavailable, any 5xx,          UPSTREAM_ERROR
RequestExpired (clock skew), the endpoint unreachable,
the connection closed, a connect timeout
ReadTimeout, the deadline                              UPSTREAM_TIMEOUT (the send may have
                                                       happened)
MessageRejected, MailFromDomainNotVerifiedException,   ``ActionRejected`` at ``$.to`` /
BadRequestException, NotFoundException (no such        ``$.cc`` / ``$.bcc`` when SES names a
configuration set), any other 4xx                      recipient, else ``$``
=====================================================  =====================================

Receiving: SES publishes bounces, complaints, deliveries and rejects to the tenant's SNS
topic, which POSTs them to the connector's inbound URL. Every message's SNS signature
is verified first (``sns.py``: the certificate only from ``sns.<region>.amazonaws.com``),
and its ``TopicArn`` must be the configured ``sns_topic_arn``. A
``SubscriptionConfirmation`` is confirmed by fetching its ``SubscribeURL`` (only SNS's
own host, the ``ConfirmSubscription`` action of that topic); a ``Notification`` carries
one SES notification (``notificationType``, identity notifications) or event record
(``eventType``, configuration-set event publishing) as its ``Message``.

The SNS certificate fetcher, host rule and subscription confirmer are constructor
arguments so that tests can run SNS's side on loopback with their own CA; production
builds ``SesProvider()`` with the strict defaults and nothing relaxes them.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

import httpx
import msgspec
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from aiobotocore.session import AioSession, get_session  # type: ignore[import-untyped]
from aiohttp.abc import AbstractResolver, ResolveResult
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from hub.actions.handlers import ActionFailed, ActionRejected, RetriableCode
from hub.config import Settings
from hub.connectors.protocol import (
    ConnectorUnusable,
    CredentialsRejected,
    InboundEvent,
    InboundReply,
    InboundRequest,
)
from hub.events.data import EmailBounced, EmailComplained, EmailEvent, EmailRejected
from hub.runtime import Runtime
from hub.security import targets
from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import in_range
from integrations.email.config import SesConfig
from integrations.email.provider import OutgoingEmail, Sent
from integrations.email.sns import (
    NOTIFICATION,
    SUBSCRIPTION_CONFIRMATION,
    CertFetcher,
    HostRule,
    SnsMessage,
    SnsVerifier,
    confirm_subscription,
    subscribe_url_holds,
)

log = logging.getLogger("hub.integrations.email.ses")

NAME = "ses"
SEND_TIMEOUT_SECONDS = 10.0
DEFAULT_RETRY_AFTER = 60
QUOTA_RETRY_AFTER = 3600
MAX_REASON_CHARS = 300
MESSAGE_ID_TAG = "hub_message_id"
HUB_MESSAGE_HEADER = "x-hub-message-id"
TEMPLATE_HEADERS = {
    "x-hub-template-id": "template_id",
    "x-hub-template-version": "template_version",
}

RATE_CODES = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
PAUSED_CODES = frozenset({"SendingPausedException"})
CREDENTIAL_CODES = frozenset(
    {
        "AccountSuspendedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "AccessDeniedException",
        "AccessDenied",
        "ExpiredTokenException",
        "ExpiredToken",
        "NotAuthorized",
        "OptInRequired",
        "AuthFailure",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestExpired",
        "RequestTimeTooSkewed",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
REJECTED_CODES = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "BadRequestException",
        "NotFoundException",
        "ValidationException",
        "ValidationError",
        "InvalidParameterValue",
    }
)
HINTS = {
    "MailFromDomainNotVerifiedException": "the sender's MAIL FROM domain is not verified in SES",
    "NotFoundException": "check the configuration_set: it must exist in the SES region",
}

_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"'@]+@[^\s<>()\[\],;:\"'@]+")


def retriable(code: RetriableCode, detail: str, retry_after: int | None = None) -> ActionFailed:
    return ActionFailed(code, detail, retry_after=retry_after)


class SesProvider:
    """Amazon SES's wire format for the e-mail connector (``provider.EmailProvider``)."""

    name = NAME

    def __init__(
        self,
        *,
        cert_fetcher: CertFetcher | None = None,
        cert_host_rule: HostRule | None = None,
        subscription_confirmer: Callable[[str], Awaitable[None]] | None = None,
        timeout_seconds: float = SEND_TIMEOUT_SECONDS,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.verifier = SnsVerifier(
            cert_fetcher=cert_fetcher, host_rule=cert_host_rule, timeout_seconds=timeout_seconds
        )
        self._confirm: Callable[[str], Awaitable[None]] = (
            subscription_confirmer or self._default_confirm
        )
        self._session: AioSession | None = None

    async def _default_confirm(self, url: str) -> None:
        await confirm_subscription(url, self.timeout_seconds)

    # -- sending -----------------------------------------------------------------------

    async def send(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        config: SesConfig,
        message: OutgoingEmail,
    ) -> Sent:
        params = request_params(config, message)
        endpoint, resolver = await _endpoint(config, settings)
        seconds = self.timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                response = await self._send_email(config, endpoint, resolver, params)
        except TimeoutError:
            raise retriable(
                "UPSTREAM_TIMEOUT", f"SES did not answer within {seconds:g} s"
            ) from None
        except ClientError as exc:
            raise failure(_error_of(exc), config, message) from None
        except ReadTimeoutError:
            raise retriable(
                "UPSTREAM_TIMEOUT", "SES did not answer in time (read timeout)"
            ) from None
        except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError) as exc:
            raise retriable(
                "UPSTREAM_ERROR", f"could not reach SES ({type(exc).__name__})"
            ) from None
        except ParamValidationError:
            reason = "SES refused the request's parameters"
            raise ActionRejected(reason, errors=[FieldError(path="$", message=reason)]) from None
        except BotoCoreError as exc:
            raise retriable(
                "UPSTREAM_ERROR", f"the SES call failed ({type(exc).__name__})"
            ) from None
        return _sent(response)

    def _aws(self) -> AioSession:
        if self._session is None:
            self._session = get_session()
        return self._session

    async def _send_email(
        self,
        config: SesConfig,
        endpoint: str | None,
        resolver: AbstractResolver | None,
        params: dict[str, Any],
    ) -> Any:
        options: dict[str, Any] = {
            "connect_timeout": self.timeout_seconds,
            "read_timeout": self.timeout_seconds,
            "retries": {"total_max_attempts": 1, "mode": "standard"},
            # The tenant's configuration decides the endpoint, not AWS_ENDPOINT_URL*.
            "ignore_configured_endpoint_urls": True,
        }
        if resolver is not None:
            # Straight to the checked addresses: no proxy from the environment in between.
            options["proxies"] = {}
            options["connector_args"] = {"resolver": resolver}
        async with self._aws().create_client(
            "sesv2",
            region_name=config.region,
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key,
            endpoint_url=endpoint,
            config=AioConfig(**options),
        ) as ses:
            return await ses.send_email(**params)

    # -- receiving ---------------------------------------------------------------------

    async def receive(
        self, rt: Runtime, config: SesConfig, request: InboundRequest
    ) -> InboundReply:
        if request.method.upper() != "POST":
            raise ProblemError("METHOD_NOT_ALLOWED", "Amazon SNS delivers with POST")
        message = await self.verifier.verify(
            request.body, topic_arn=config.sns_topic_arn, now=request.received_at
        )
        if message.type == SUBSCRIPTION_CONFIRMATION:
            await self._confirm_subscription(message)
            return _ok()
        if message.type != NOTIFICATION:  # UnsubscribeConfirmation
            log.warning("the SNS topic's subscription to this connector was removed")
            return _ok()
        return _ok(events_of(message, request.received_at))

    async def _confirm_subscription(self, message: SnsMessage) -> None:
        if not subscribe_url_holds(
            message.subscribe_url, message.topic_arn, self.verifier.host_rule
        ):
            raise ProblemError(
                "UNAUTHENTICATED", "the SubscribeURL is not Amazon SNS's for the configured topic"
            )
        assert message.subscribe_url is not None
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self._confirm(message.subscribe_url)
        except Exception as exc:
            log.warning(
                "the SNS subscription could not be confirmed", extra={"error": type(exc).__name__}
            )
            raise ProblemError(
                "UNAVAILABLE", "the SNS subscription could not be confirmed: try again"
            ) from None
        log.info("the SNS subscription was confirmed")


def _ok(events: list[InboundEvent] | None = None) -> InboundReply:
    return InboundReply(events=events or [], status=200, body=b"OK")


# -- sending: the request ----------------------------------------------------------------


def request_params(config: SesConfig, message: OutgoingEmail) -> dict[str, Any]:
    """SESv2 ``SendEmail``'s parameters for ``message`` (botocore base64s the raw bytes)."""
    raw = message.rfc822()
    if not raw:
        raise ActionRejected(
            "the message is empty", errors=[FieldError(path="$", message="no message to send")]
        )
    destination: dict[str, list[str]] = {"ToAddresses": list(message.to)}
    if message.cc:
        destination["CcAddresses"] = list(message.cc)
    if message.bcc:
        destination["BccAddresses"] = list(message.bcc)
    params: dict[str, Any] = {
        "FromEmailAddress": message.sender_address,
        "Destination": destination,
        "Content": {"Raw": {"Data": raw}},
        "EmailTags": [{"Name": MESSAGE_ID_TAG, "Value": message.message_id}],
    }
    if config.configuration_set:
        params["ConfigurationSetName"] = config.configuration_set
    return params


class PinnedResolver(AbstractResolver):
    """Resolves the endpoint's host to the addresses the SSRF guard checked, and nothing
    else (aiohttp asks it for every connection the botocore client opens)."""

    def __init__(self, host: str, addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address]):
        self.host = host.lower().rstrip(".")
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.lower().rstrip(".") != self.host:
            raise OSError("only the checked SES endpoint may be resolved")
        results: list[ResolveResult] = []
        for address in self.addresses:
            address_family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            if family not in (socket.AF_UNSPEC, address_family):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(address),
                    port=port,
                    family=address_family,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise OSError("no checked address of that family")
        return results

    async def close(self) -> None:
        return None


async def _endpoint(
    config: SesConfig, settings: Settings
) -> tuple[str | None, AbstractResolver | None]:
    """The configured endpoint and its pinned resolver, checked now (None, None: AWS)."""
    url = config.endpoint_url
    if not url:
        return None, None
    try:
        parts = targets.parse_target(url, settings, path="$.config.endpoint_url")
        assert parts.hostname is not None
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await targets.resolve_allowed(parts.hostname, port, settings)
    except ProblemError as exc:
        raise retriable(
            "TARGET_NOT_ALLOWED", f"the SES endpoint_url is not allowed: {exc.detail}"
        ) from None
    return url, PinnedResolver(parts.hostname, addresses)


# -- sending: the answer -----------------------------------------------------------------


def _sent(response: Any) -> Sent:
    message_id = response.get("MessageId") if isinstance(response, dict) else None
    if not isinstance(message_id, str) or not message_id or len(message_id) > 255:
        raise retriable("UPSTREAM_ERROR", "SES's answer names no MessageId")
    return Sent(provider_message_id=message_id)


class SesError(msgspec.Struct, frozen=True):
    """What the hub keys on in one of SES's error answers."""

    code: str
    status: int
    message: str = ""


def _error_of(exc: ClientError) -> SesError:
    response = exc.response if isinstance(exc.response, dict) else {}
    error = response.get("Error")
    error = error if isinstance(error, dict) else {}
    metadata = response.get("ResponseMetadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    status = metadata.get("HTTPStatusCode")
    code = error.get("Code")
    message = error.get("Message")
    return SesError(
        code=code if isinstance(code, str) else "",
        status=status if isinstance(status, int) else 0,
        message=message if isinstance(message, str) else "",
    )


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    """Printable, short, without the keys and without any e-mail address."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _ADDRESS.sub("[address]", text)
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.split())[:MAX_REASON_CHARS]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _label(error: SesError) -> str:
    if error.code and not error.code.isdigit():
        return f"{error.code}, HTTP {error.status}" if error.status else error.code
    return f"HTTP {error.status}"


def failure(error: SesError, config: SesConfig, message: OutgoingEmail) -> Exception:
    """The exception that says why SES did not take the message (see the module's table)."""
    code, status = error.code, error.status
    secrets = (config.secret_access_key, config.access_key_id)
    if code in PAUSED_CODES:
        reason = (
            "SES sending is paused for this account or configuration set "
            "(SendingPausedException): resume sending in SES, then save the connector again"
        )
        return ConnectorUnusable(reason, f"SES refused to send: {reason}")
    if code in CREDENTIAL_CODES or status in (401, 403):
        return CredentialsRejected(_credentials_reason(error, config))
    if code in RATE_CODES or status == 429:
        text = error.message.lower()
        if "quota" in text or "daily" in text:
            return retriable(
                "QUOTA_EXCEEDED",
                f"SES's sending quota is spent ({_label(error)})",
                QUOTA_RETRY_AFTER,
            )
        return retriable(
            "RATE_LIMITED", f"SES is throttling sends ({_label(error)})", DEFAULT_RETRY_AFTER
        )
    if code in REJECTED_CODES:
        return _rejection(error, message, secrets)
    if code in TRANSIENT_CODES or status >= 500 or status < 400:
        detail = _clean(error.message, secrets) or f"HTTP {status}"
        return retriable(
            "UPSTREAM_ERROR", _clip(f"SES failed ({_label(error)}): {detail}", MAX_REASON_CHARS)
        )
    return _rejection(error, message, secrets)


def _credentials_reason(error: SesError, config: SesConfig) -> str:
    # SES's own words are left out: they are about the keys and add nothing an operator
    # needs beyond the code.
    if error.code == "AccountSuspendedException":
        return (
            "SES answered AccountSuspendedException: the account's ability to send is "
            "permanently restricted; contact AWS Support"
        )
    if error.code in ("AccessDeniedException", "AccessDenied", "NotAuthorized"):
        return (
            f"SES answered {_label(error)}: the access key may not call ses:SendEmail "
            f"in {config.region}; check its IAM policy"
        )
    return f"SES answered {_label(error)}: check the access_key_id and secret_access_key"


def _rejection(error: SesError, message: OutgoingEmail, secrets: tuple[str, ...]) -> ActionRejected:
    path = _recipient_path(error.message, message)
    label = (
        f"SES {error.code}" if error.code and not error.code.isdigit() else f"SES {_label(error)}"
    )
    reason = _clean(error.message, secrets) or _label(error)
    hint = HINTS.get(error.code)
    field_message = _clip(f"{label}: {reason}" + (f" ({hint})" if hint else ""), MAX_REASON_CHARS)
    prefix = "SES refused the message: "
    detail = prefix + _clip(reason, MAX_REASON_CHARS - len(prefix))
    extra: dict[str, Any] = (
        {"provider_code": error.code} if error.code else {"provider_status": error.status}
    )
    return ActionRejected(
        detail, errors=[FieldError(path=path, message=field_message)], extra=extra
    )


def _recipient_path(text: str, message: OutgoingEmail) -> str:
    """``$.to`` (``$.cc``, ``$.bcc``) when SES's message names one of those recipients."""
    lowered = text.lower()
    for path, addresses in (("$.to", message.to), ("$.cc", message.cc), ("$.bcc", message.bcc)):
        if any(address and address.lower() in lowered for address in addresses):
            return path
    return "$"


# -- receiving: events -------------------------------------------------------------------

PUBLISHED = {
    "Bounce": "email.bounced",
    "Complaint": "email.complained",
    "Delivery": "email.delivered",
    "Reject": "email.rejected",
}
DATA_TYPES: Mapping[str, type[EmailEvent]] = {
    "email.bounced": EmailBounced,
    "email.complained": EmailComplained,
    "email.delivered": EmailEvent,
    "email.rejected": EmailRejected,
}
BOUNCE_TYPES = {"Permanent": "hard", "Transient": "soft", "Undetermined": "soft"}
MAX_EVENT_KEY_RECIPIENT = 180
_SKIPPABLE = (KeyError, TypeError, ValueError, AttributeError, msgspec.ValidationError)


class _Malformed(Exception):
    """A notification (or one recipient of it) that cannot be read."""


def events_of(message: SnsMessage, received_at: datetime) -> list[InboundEvent]:
    """The catalog events of one verified SNS notification: one per recipient. What
    cannot be read is skipped and counted (never logged: it holds addresses); this
    never raises."""
    skipped = 0
    try:
        events, skipped = _events(message, received_at)
    except (_Malformed, *_SKIPPABLE):
        events, skipped = [], skipped + 1
    if skipped:
        log.warning("SES notification items could not be read", extra={"skipped": skipped})
    return events


def _events(message: SnsMessage, received_at: datetime) -> tuple[list[InboundEvent], int]:
    try:
        payload = msgspec.json.decode(message.message)
    except msgspec.DecodeError:
        raise _Malformed("not JSON") from None
    if not isinstance(payload, dict):
        raise _Malformed("not an object")
    kind = payload.get("eventType") or payload.get("notificationType")
    if not isinstance(kind, str) or kind not in PUBLISHED:
        return [], 0  # Send (the connector publishes email.sent), Open, Click, ...
    event_type = PUBLISHED[kind]
    sns_id = _text(message.message_id, 100)
    if sns_id is None:
        raise _Malformed("no SNS MessageId")
    mail = _dict(payload.get("mail"))
    common = _common(mail)
    fallback = (
        message.timestamp if message.timestamp and in_range(message.timestamp) else received_at
    )
    events: list[InboundEvent] = []
    skipped = 0
    for recipient, extra, moment in _recipients(kind, payload, mail):
        try:
            address = _address(recipient)
            data = _present({**common, "recipient": address, **extra})
            msgspec.convert(data, DATA_TYPES[event_type])  # what the catalog would refuse
        except (_Malformed, *_SKIPPABLE):
            skipped += 1
            continue
        events.append(
            InboundEvent(
                type=event_type,
                id=f"{NAME}:{sns_id}:{_event_key(address)}",
                data=data,
                occurred_at=_moment(moment, fallback),
            )
        )
    return events, skipped


def _recipients(
    kind: str, payload: dict[str, Any], mail: dict[str, Any]
) -> Iterator[tuple[Any, dict[str, Any], Any]]:
    """(recipient, the type's own data, the event's timestamp) for each recipient."""
    if kind == "Bounce":
        bounce = _dict(payload.get("bounce"))
        bounce_type = BOUNCE_TYPES.get(str(bounce.get("bounceType")))
        if bounce_type is None:
            raise _Malformed("an unknown bounceType")
        for item in _items(bounce.get("bouncedRecipients")):
            diagnostic = _text(item.get("diagnosticCode"), 2000)
            extra = {"bounce_type": bounce_type, "diagnostic": diagnostic}
            yield item.get("emailAddress"), extra, bounce.get("timestamp")
    elif kind == "Complaint":
        complaint = _dict(payload.get("complaint"))
        feedback = _text(complaint.get("complaintFeedbackType"), 200)
        for item in _items(complaint.get("complainedRecipients")):
            yield item.get("emailAddress"), {"feedback_type": feedback}, complaint.get("timestamp")
    elif kind == "Delivery":
        delivery = _dict(payload.get("delivery"))
        for recipient in _list(delivery.get("recipients")):
            yield recipient, {}, delivery.get("timestamp")
    else:  # Reject: SES refused the whole message, for every recipient
        reason = _text(_dict(payload.get("reject")).get("reason"), 500)
        for recipient in _list(mail.get("destination")):
            yield recipient, {"reason": reason}, mail.get("timestamp")


def _common(mail: dict[str, Any]) -> dict[str, Any]:
    provider_id = _text(mail.get("messageId"), 255)
    if provider_id is None:
        raise _Malformed("no mail.messageId")
    headers = _headers(mail.get("headers"))
    common_headers = _dict(mail.get("commonHeaders"))
    tags = _dict(mail.get("tags"))
    tagged = _list(tags.get(MESSAGE_ID_TAG))
    message_id = (
        (_text(tagged[0], 128) if tagged else None)
        or _text(headers.get(HUB_MESSAGE_HEADER), 128)
        or provider_id[:128]
    )
    values: dict[str, Any] = {
        "message_id": message_id,
        "provider": NAME,
        "provider_message_id": provider_id,
        "rfc822_message_id": _text(common_headers.get("messageId"), 998)
        or _text(headers.get("message-id"), 998),
        "subject": _text(common_headers.get("subject"), 1000),
    }
    for header, name in TEMPLATE_HEADERS.items():
        values[name] = _text(headers.get(header), 200)
    return values


def _headers(values: Any) -> dict[str, Any]:
    """``mail.headers`` (a list of name/value pairs) by lower-case name, first wins."""
    headers: dict[str, Any] = {}
    for item in _items(values):
        name = item.get("name")
        if isinstance(name, str) and name.lower() not in headers:
            headers[name.lower()] = item.get("value")
    return headers


def _address(value: Any) -> str:
    """The bare address of a recipient (a DSN's Final-Recipient may carry a name)."""
    text = _text(value, 998)
    if text is None:
        raise _Malformed("no recipient")
    if "<" in text:
        text = parseaddr(text)[1]
    text = text.strip()
    if "@" not in text or len(text) > 320 or any(ch.isspace() for ch in text):
        raise _Malformed("not an address")
    return text


def _event_key(address: str) -> str:
    """The recipient's part of the event id (hashed when too long for the producer id)."""
    if len(address) <= MAX_EVENT_KEY_RECIPIENT:
        return address
    return "sha256:" + hashlib.sha256(address.lower().encode()).hexdigest()[:40]


def _moment(value: Any, fallback: datetime) -> datetime:
    """SES's ISO 8601 timestamp in UTC (the fallback when missing or out of range)."""
    if not isinstance(value, str):
        return fallback
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return fallback
    if moment.tzinfo is None or not in_range(moment):
        return fallback
    return moment.astimezone(UTC)


def _items(values: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(values, list):
        return iter(())
    return (value for value in values if isinstance(value, dict))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int) -> str | None:
    """A non-empty string without NUL (refused by the hub), cut to ``limit``."""
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "")[:limit]
    return cleaned if cleaned.strip() else None


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}
