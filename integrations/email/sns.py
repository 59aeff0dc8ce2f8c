"""Amazon SNS messages to an HTTP(S) endpoint: verified before anything reads them.

SNS signs every message it POSTs (``SubscriptionConfirmation``, ``Notification``,
``UnsubscribeConfirmation``) with the private key of an X.509 certificate it publishes
at ``SigningCertURL``. ``SignatureVersion`` "1" is SHA1withRSA, "2" SHA256withRSA, over
the string to sign SNS documents (docs.aws.amazon.com/sns/latest/dg/
sns-verify-signature-of-message.html): ``name\\nvalue\\n`` for each of

- ``Notification``: Message, MessageId, Subject (only when present), Timestamp,
  TopicArn, Type;
- ``SubscriptionConfirmation`` and ``UnsubscribeConfirmation``: Message, MessageId,
  SubscribeURL, Timestamp, Token, TopicArn, Type.

The certificate is only ever fetched from Amazon SNS itself: ``https`` on the default
port, the host exactly ``sns.<region>.amazonaws.com`` (or ``….amazonaws.com.cn``), the
path ending ``.pem`` (``sns_host_rule``) — a message naming any other URL is refused
without a fetch, so a forger cannot point the hub at a certificate of their own. A
certificate is cached per URL (SNS rotates them rarely; the URL changes when it does).

The rule is a constructor argument only so that tests can serve their own CA-signed
certificate on loopback (``tests/connectors/email/fake_sns.py``): production code never
passes one, and nothing in the configuration or the environment relaxes it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hub.web.errors import ProblemError

log = logging.getLogger("hub.integrations.email.sns")

CertFetcher = Callable[[str], Awaitable[bytes]]
HostRule = Callable[[str], bool]

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

# The string to sign, per Type (in this order; Subject only when the message has one).
SIGNED_FIELDS: Mapping[str, tuple[str, ...]] = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    UNSUBSCRIBE_CONFIRMATION: (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
OPTIONAL_FIELDS = frozenset({"Subject"})
HASHES: Mapping[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}

SNS_HOST = re.compile(r"^sns\.[a-z]{2}(-[a-z]+)+-[0-9]\.amazonaws\.com(\.cn)?$")
MAX_CERT_BYTES = 64 * 1024
MAX_CACHED_CERTS = 32
MAX_SIGNATURE_CHARS = 4096
FETCH_TIMEOUT_SECONDS = 10.0


def sns_host_rule(url: str) -> bool:
    """Whether ``url`` is Amazon SNS's own: https, the default port, no credentials,
    the host exactly ``sns.<region>.amazonaws.com`` or ``sns.<region>.amazonaws.com.cn``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        url.isascii()
        and not any(ch.isspace() for ch in url)
        and parts.scheme == "https"
        and parts.username is None
        and parts.password is None
        and port in (None, 443)
        and parts.hostname is not None
        and parts.netloc in (parts.hostname, f"{parts.hostname}:443")
        and SNS_HOST.fullmatch(parts.hostname) is not None
    )


def _is_pem_path(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.path.endswith(".pem") and not parts.query and not parts.fragment


class CertificateUnavailable(Exception):
    """The certificate could not be fetched now (the network, not the message): the
    call is answered 503 so SNS delivers it again."""


async def fetch_certificate(url: str, timeout_seconds: float = FETCH_TIMEOUT_SECONDS) -> bytes:
    """The production fetcher: one GET over TLS (verified), no redirects, bounded size."""
    try:
        async with (
            httpx.AsyncClient(
                timeout=timeout_seconds, follow_redirects=False, trust_env=False
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_CERT_BYTES:
                    raise ValueError("the certificate is too large")
            return bytes(body)
    except httpx.TransportError as exc:
        raise CertificateUnavailable(type(exc).__name__) from None


async def confirm_subscription(url: str, timeout_seconds: float = FETCH_TIMEOUT_SECONDS) -> None:
    """The production confirmer: GET the SubscribeURL (SNS answers 200 with XML)."""
    async with httpx.AsyncClient(
        timeout=timeout_seconds, follow_redirects=False, trust_env=False
    ) as client:
        response = await client.get(url)
    if response.status_code != 200:
        raise ValueError(f"SNS answered HTTP {response.status_code}")


@dataclass(frozen=True, slots=True)
class SnsMessage:
    """One verified SNS message (the fields the hub uses)."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: datetime | None
    subject: str | None = None
    subscribe_url: str | None = None
    token: str | None = None


def _refuse(detail: str) -> ProblemError:
    return ProblemError("UNAUTHENTICATED", detail)


def string_to_sign(fields: Mapping[str, Any]) -> bytes:
    """SNS's canonical string for ``fields`` (raises ``KeyError`` / ``TypeError`` when a
    signed field is missing or not a string)."""
    names = SIGNED_FIELDS[fields["Type"]]
    parts: list[str] = []
    for name in names:
        if name in OPTIONAL_FIELDS and name not in fields:
            continue
        value = fields[name]
        if not isinstance(value, str):
            raise TypeError(f"{name} is not a string")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode("utf-8")


def _timestamp(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class _Certificate:
    key: rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime


class SnsVerifier:
    """Checks SNS's signature on a message body, before anything else reads it."""

    def __init__(
        self,
        *,
        cert_fetcher: CertFetcher | None = None,
        host_rule: HostRule | None = None,
        timeout_seconds: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self._fetch: CertFetcher = cert_fetcher or self._default_fetch
        self.host_rule: HostRule = host_rule or sns_host_rule
        self._certs: OrderedDict[str, _Certificate] = OrderedDict()

    async def _default_fetch(self, url: str) -> bytes:
        return await fetch_certificate(url, self.timeout_seconds)

    async def verify(self, body: bytes, *, topic_arn: str | None, now: datetime) -> SnsMessage:
        """The message ``body`` holds, once its topic and signature hold; otherwise raise
        ``ProblemError("UNAUTHENTICATED")`` (``UNAVAILABLE`` when SNS's certificate
        cannot be fetched right now)."""
        if not topic_arn:
            raise _refuse("no sns_topic_arn is configured: SNS messages cannot be accepted")
        try:
            fields = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise _refuse("the SNS message is not JSON") from None
        if not isinstance(fields, dict):
            raise _refuse("the SNS message is not a JSON object")
        kind = fields.get("Type")
        if not isinstance(kind, str) or kind not in SIGNED_FIELDS:
            raise _refuse("the SNS message has no known Type")
        if fields.get("TopicArn") != topic_arn:
            raise _refuse("the SNS message is not from the configured topic")
        try:
            signed = string_to_sign(fields)
        except (KeyError, TypeError):
            raise _refuse("the SNS message lacks a signed field") from None
        version = fields.get("SignatureVersion")
        algorithm = HASHES.get(version) if isinstance(version, str) else None
        if algorithm is None:
            raise _refuse("the SNS message has no supported SignatureVersion")
        signature = _signature(fields.get("Signature"))
        certificate = await self._certificate(fields.get("SigningCertURL"))
        if not certificate.not_before <= now <= certificate.not_after:
            raise _refuse("the SNS signing certificate is not valid now")
        try:
            certificate.key.verify(signature, signed, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            raise _refuse("the SNS signature does not verify") from None
        return SnsMessage(
            type=kind,
            message_id=fields["MessageId"],
            topic_arn=topic_arn,
            message=fields["Message"],
            timestamp=_timestamp(fields["Timestamp"]),
            subject=fields.get("Subject"),
            # Signed (so strings) on confirmations only; a notification's are ignored.
            subscribe_url=fields["SubscribeURL"] if kind != NOTIFICATION else None,
            token=fields["Token"] if kind != NOTIFICATION else None,
        )

    async def _certificate(self, url: Any) -> _Certificate:
        if not isinstance(url, str) or not url:
            raise _refuse("the SNS message names no SigningCertURL")
        if not self.host_rule(url) or not _is_pem_path(url):
            raise _refuse("the SigningCertURL is not an Amazon SNS certificate URL")
        cached = self._certs.get(url)
        if cached is not None:
            self._certs.move_to_end(url)
            return cached
        try:
            pem = await self._fetch(url)
        except (CertificateUnavailable, httpx.TransportError, TimeoutError, OSError):
            log.warning("the SNS signing certificate could not be fetched")
            raise ProblemError(
                "UNAVAILABLE", "the SNS signing certificate could not be fetched: try again"
            ) from None
        except Exception:
            raise _refuse("the SNS signing certificate could not be fetched") from None
        certificate = _load(pem)
        self._certs[url] = certificate
        while len(self._certs) > MAX_CACHED_CERTS:
            self._certs.popitem(last=False)
        return certificate


def _signature(value: Any) -> bytes:
    if not isinstance(value, str) or not value or len(value) > MAX_SIGNATURE_CHARS:
        raise _refuse("the SNS message has no Signature")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("the SNS Signature is not base64") from None


def _load(pem: bytes) -> _Certificate:
    if len(pem) > MAX_CERT_BYTES:
        raise _refuse("the SNS signing certificate is too large")
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise _refuse("the SNS signing certificate is not a PEM certificate") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _refuse("the SNS signing certificate does not hold an RSA key")
    return _Certificate(
        key=key,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def subscribe_url_holds(url: str | None, topic_arn: str, host_rule: HostRule) -> bool:
    """Whether a confirmation's SubscribeURL may be fetched: SNS's own host (the same
    rule as certificates), the ``ConfirmSubscription`` action, of the configured topic."""
    if not url or not host_rule(url):
        return False
    try:
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return False
    return query.get("Action") == ["ConfirmSubscription"] and query.get("TopicArn") == [topic_arn]
