"""SMTP submission (the expert fallback): any server the tenant names, through aiosmtplib.

Sending: the configured host goes through the SSRF guard at every send
(``hub.security.targets.resolve_allowed``) and the connection goes to the address that
was checked — a socket the provider connects itself, handed to aiosmtplib with the
configured name as ``hostname``, so TLS (implicit or STARTTLS) still verifies the
certificate against the name while no later DNS answer can move the connection.
(aiosmtplib 5.x takes no ``server_hostname`` for implicit TLS: given ``hostname=<ip>``
it would verify the certificate against the IP. Given ``sock=`` and ``hostname=<name>``
it uses the name for SNI and verification, both for implicit TLS and STARTTLS.)
``timeout_seconds`` bounds the whole exchange, from the DNS answer to the server's
answer to the message; the QUIT that follows is brief and never changes the outcome.

``security`` is ``tls`` (implicit TLS, 465), ``starttls`` (587: STARTTLS is required,
a server that does not offer it gets nothing in clear) or ``none`` (trusted relays and
tests). AUTH runs when a username is set. The envelope is the configured sender and
every recipient (to, cc, bcc); the data is ``message.rfc822()`` exactly as the connector
built it, so the hub's ``Message-ID`` is the provider message id.

How the server's answers become the hub's (``classify``):

======================================  =============================================
SMTP outcome                            the hub's answer
======================================  =============================================
accepted for some recipients, refused   ``Sent`` (the message went to the others; the
for others                              refusals are logged by index and code)
AUTH refused 5xx (535, 534, 530)        ``CredentialsRejected``
AUTH refused 4xx (454)                  ``UPSTREAM_ERROR`` (temporary)
MAIL FROM refused 530 (auth required)   ``CredentialsRejected``
MAIL FROM refused other 5xx             ``ActionRejected`` at ``$``
every recipient refused, all 5xx        ``ActionRejected`` at ``$.to[i]``/``$.cc[i]``/…
every recipient refused, some 4xx       ``UPSTREAM_ERROR`` (a retry may deliver)
DATA refused 5xx / 4xx                  ``ActionRejected`` at ``$`` / ``UPSTREAM_ERROR``
4xx on MAIL FROM, other replies         ``UPSTREAM_ERROR``
SMTPUTF8 needed, not offered            ``ActionRejected`` at ``$``
STARTTLS required, not offered          ``UPSTREAM_ERROR`` ("does not offer STARTTLS")
AUTH configured, not offered            ``UPSTREAM_ERROR``
TLS certificate does not verify         ``UPSTREAM_ERROR`` (never credentials)
connect / disconnect / socket errors    ``UPSTREAM_ERROR``
no answer within ``timeout_seconds``    ``UPSTREAM_TIMEOUT``
host not allowed by the SSRF guard      ``TARGET_NOT_ALLOWED``
======================================  =============================================

A refusal names the recipient by its field and index, never by address (a server's
reply text often repeats the address, so it is kept out as well: only its codes).

Receiving: SMTP has no lifecycle webhooks; bounces come back by e-mail to the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

import aiosmtplib
import httpx

from hub.actions.handlers import ActionFailed, ActionRejected
from hub.config import Settings
from hub.connectors.protocol import InboundReply, InboundRequest
from hub.runtime import Runtime
from hub.security import targets
from hub.web.errors import FieldError, ProblemError
from integrations.email.config import SmtpConfig
from integrations.email.provider import CredentialsRejected, OutgoingEmail, Sent

log = logging.getLogger("hub.integrations.email.smtp")

NAME = "smtp"
SEND_TIMEOUT_SECONDS = 15.0
QUIT_TIMEOUT_SECONDS = 2.0
AUTH_REQUIRED = 530
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class NoStartTls(Exception):
    """STARTTLS is required and the server does not offer it."""


class NoAuth(Exception):
    """A username is configured and the server offers no AUTH."""


# Failures where the server answered (it is still listening, QUIT is polite).
ANSWERED = (
    aiosmtplib.SMTPResponseException,
    aiosmtplib.SMTPRecipientsRefused,
    aiosmtplib.SMTPNotSupported,
    NoStartTls,
    NoAuth,
)


@dataclass(frozen=True, slots=True)
class Envelope:
    sender: str
    recipients: list[str]  # each address once, in to, cc, bcc order
    paths: dict[str, str]  # address -> "$.to[0]" (its first place in the message)

    @classmethod
    def of(cls, message: OutgoingEmail) -> Envelope:
        recipients: list[str] = []
        paths: dict[str, str] = {}
        fields = (("to", message.to), ("cc", message.cc), ("bcc", message.bcc))
        for name, addresses in fields:
            for index, address in enumerate(addresses):
                if address not in paths:
                    paths[address] = f"$.{name}[{index}]"
                    recipients.append(address)
        return cls(message.sender_address, recipients, paths)

    def path(self, address: str) -> str:
        return self.paths.get(address, "$.to")

    @property
    def needs_smtputf8(self) -> bool:
        return not all(address.isascii() for address in [self.sender, *self.recipients])


class SmtpProvider:
    """SMTP submission for the e-mail connector (``provider.EmailProvider``)."""

    name = NAME

    def __init__(
        self,
        *,
        timeout_seconds: float = SEND_TIMEOUT_SECONDS,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        # Verifies the chain and the host name (tests pass one trusting their own CA).
        self.tls_context = tls_context or ssl.create_default_context()

    async def send(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        config: SmtpConfig,
        message: OutgoingEmail,
    ) -> Sent:
        del client  # SMTP is not HTTP
        envelope = Envelope.of(message)
        raw = message.rfc822()
        seconds = self.timeout_seconds
        try:
            async with asyncio.timeout(seconds) as deadline:
                addresses = await _allowed(config, settings)
                refused = await self._deliver(config, addresses, envelope, raw, deadline)
        except (ActionFailed, ActionRejected):
            raise
        except TimeoutError:
            raise ActionFailed(
                "UPSTREAM_TIMEOUT", f"the SMTP server did not answer within {seconds:g} s"
            ) from None
        except Exception as exc:  # every other failure is classified
            raise classify(exc, envelope, config) from None
        if refused:
            # Sent to the others: the message exists, a retry would duplicate it for them.
            log.warning(
                "the SMTP server refused some recipients; sent to the others",
                extra={
                    "refused": len(refused),
                    "recipients": len(envelope.recipients),
                    "refusals": sorted(
                        f"{envelope.path(address)}={reply.code}"
                        for address, reply in refused.items()
                    ),
                },
            )
        return Sent(provider_message_id=message_id_of(raw) or message.rfc822_message_id)

    async def receive(
        self, rt: Runtime, config: SmtpConfig, request: InboundRequest
    ) -> InboundReply:
        raise ProblemError(
            "NOT_FOUND", "SMTP has no webhooks: bounces arrive by e-mail to the sender"
        )

    async def _deliver(
        self,
        config: SmtpConfig,
        addresses: Sequence[IPAddress],
        envelope: Envelope,
        raw: bytes,
        deadline: asyncio.Timeout,
    ) -> dict[str, aiosmtplib.SMTPResponse]:
        sock = await _connect(addresses, config.port)
        smtp = aiosmtplib.SMTP(
            sock=sock,
            hostname=config.host,  # the TLS name (SNI and verification), not dialled
            use_tls=config.security == "tls",
            start_tls=False,  # done below, so that a server without it is refused
            tls_context=self.tls_context,
            timeout=self.timeout_seconds,
            local_hostname=_ehlo_name(envelope.sender),
        )
        try:
            await smtp.connect()
        except BaseException:
            sock.close()  # may be closed already: closing again does nothing
            raise
        try:
            refused = await _transact(smtp, config, envelope, raw)
        except ANSWERED:
            # The outcome is known and the server listens: a brief QUIT, off the clock.
            deadline.reschedule(None)
            await _quit(smtp)
            raise
        except BaseException:
            smtp.close()  # timed out, cut off, cancelled: nothing to say to it
            raise
        # Sent: no slow goodbye may turn that into a timeout.
        deadline.reschedule(None)
        await _quit(smtp)
        return refused


async def _allowed(config: SmtpConfig, settings: Settings) -> list[IPAddress]:
    try:
        return await targets.resolve_allowed(config.host, config.port, settings)
    except ProblemError as exc:
        reason = exc.errors[0].message if exc.errors else exc.detail
        raise ActionFailed(
            "TARGET_NOT_ALLOWED", f"the SMTP host is not allowed: {reason}"
        ) from None


async def _connect(addresses: Sequence[IPAddress], port: int) -> socket.socket:
    """A socket connected to the first checked address that answers."""
    loop = asyncio.get_running_loop()
    failure: OSError | None = None
    for address in dict.fromkeys(addresses):
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (str(address), port))
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    reason = type(failure).__name__ if failure is not None else "no address"
    raise aiosmtplib.SMTPConnectError(f"could not connect ({reason})")


async def _transact(
    smtp: aiosmtplib.SMTP, config: SmtpConfig, envelope: Envelope, raw: bytes
) -> dict[str, aiosmtplib.SMTPResponse]:
    if config.security == "starttls":
        await smtp.ehlo()
        if not smtp.supports_extension("starttls"):
            raise NoStartTls
        await smtp.starttls()  # verifies the certificate for config.host
    if config.username:
        if smtp.is_ehlo_or_helo_needed:
            await smtp.ehlo()
        if not smtp.supports_extension("auth"):
            raise NoAuth
        await smtp.login(config.username, config.password or "")
    if smtp.is_ehlo_or_helo_needed:
        await smtp.ehlo()
    options: list[str] = []
    if envelope.needs_smtputf8:
        options.append("SMTPUTF8")  # refused by aiosmtplib when the server lacks it
    if not raw.isascii() and smtp.supports_extension("8bitmime"):
        options.append("BODY=8BITMIME")
    refused, _ = await smtp.sendmail(
        envelope.sender, envelope.recipients, raw, mail_options=options
    )
    return refused


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """Say goodbye, briefly: the outcome is known by now, whatever QUIT answers."""
    try:
        if smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                async with asyncio.timeout(QUIT_TIMEOUT_SECONDS):
                    await smtp.quit(timeout=QUIT_TIMEOUT_SECONDS)
    finally:
        smtp.close()


def _ehlo_name(sender: str) -> str:
    """The sender's domain as the EHLO name (not this machine's name)."""
    domain = sender.rpartition("@")[2]
    try:
        name = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"
    return name if re.fullmatch(r"[A-Za-z0-9.-]{1,253}", name) else "localhost"


def message_id_of(raw: bytes) -> str | None:
    """The raw message's Message-ID header as written (unfolded), if it has one."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    value = headers.get("message-id")
    if not isinstance(value, str):
        return None
    value = re.sub(r"\r?\n", "", value).strip()
    return value or None


# -- the answers -------------------------------------------------------------------------


def classify(exc: BaseException, envelope: Envelope, config: SmtpConfig) -> Exception:
    """The hub's answer to an SMTP failure (see the table in the module's docstring)."""
    if isinstance(exc, NoStartTls):
        return ActionFailed(
            "UPSTREAM_ERROR",
            "the server does not offer STARTTLS (security is starttls: nothing is sent in clear)",
        )
    if isinstance(exc, NoAuth):
        return ActionFailed(
            "UPSTREAM_ERROR",
            "the SMTP server offers no AUTH on this connection (a username is configured)",
        )
    verification = _certificate_failure(exc)
    if verification is not None:
        return ActionFailed(
            "UPSTREAM_ERROR",
            f"the SMTP server's TLS certificate does not verify for {config.host}: {verification}"[
                :300
            ],
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        if _transient(exc.code):
            return ActionFailed(
                "UPSTREAM_ERROR", f"the SMTP server failed the authentication for now ({exc.code})"
            )
        return CredentialsRejected(
            f"the SMTP server refused the username and password ({_codes(exc)})"
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return _recipients_refused(exc.recipients, envelope)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return _recipients_refused([exc], envelope)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        if exc.code == AUTH_REQUIRED:
            return CredentialsRejected(f"the SMTP server requires authentication ({_codes(exc)})")
        if _transient(exc.code):
            return ActionFailed(
                "UPSTREAM_ERROR", f"the SMTP server refused the sender for now ({_codes(exc)})"
            )
        reason = "the server refused the sender"
        return ActionRejected(
            f"{reason} ({_codes(exc)})",
            errors=[FieldError(path="$", message=reason)],
            extra=_extra(exc),
        )
    if isinstance(exc, aiosmtplib.SMTPDataError):
        if _transient(exc.code):
            return ActionFailed(
                "UPSTREAM_ERROR", f"the SMTP server deferred the message ({_codes(exc)})"
            )
        reason = "the server refused the message"
        return ActionRejected(
            f"{reason} ({_codes(exc)})",
            errors=[FieldError(path="$", message=reason)],
            extra=_extra(exc),
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        reason = "the server does not accept internationalized addresses (SMTPUTF8)"
        return ActionRejected(reason, errors=[FieldError(path="$", message=reason)])
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return ActionFailed("UPSTREAM_ERROR", f"the SMTP server answered {_codes(exc)}")
    if isinstance(exc, ssl.SSLError):
        return ActionFailed(
            "UPSTREAM_ERROR", f"TLS with the SMTP server failed ({exc.reason or 'handshake'})"
        )
    if isinstance(exc, OSError):  # SMTPConnectError, SMTPServerDisconnected included
        return ActionFailed(
            "UPSTREAM_ERROR", f"could not reach the SMTP server ({type(exc).__name__})"
        )
    if isinstance(exc, aiosmtplib.SMTPException):
        return ActionFailed("UPSTREAM_ERROR", f"the SMTP exchange failed ({type(exc).__name__})")
    if isinstance(exc, ValueError):
        # aiosmtplib refuses an address it cannot write on a command line (before sending).
        reason = "an address cannot be written in an SMTP envelope"
        return ActionRejected(reason, errors=[FieldError(path="$", message=reason)])
    # The type only: an exception's text may quote an address.
    log.error("unexpected SMTP failure", extra={"error": type(exc).__name__})
    return ActionFailed("UPSTREAM_ERROR", f"the SMTP send failed ({type(exc).__name__})")


def _recipients_refused(
    refusals: Sequence[aiosmtplib.SMTPRecipientRefused], envelope: Envelope
) -> Exception:
    errors = [
        FieldError(
            path=envelope.path(refusal.recipient),
            message=f"the server refused this recipient ({_codes(refusal)})",
        )
        for refusal in refusals
    ]
    codes = {envelope.path(refusal.recipient): refusal.code for refusal in refusals}
    if any(_transient(refusal.code) for refusal in refusals):
        return ActionFailed(
            "UPSTREAM_ERROR",
            "the SMTP server deferred the recipients for now "
            f"({', '.join(f'{p}: {c}' for p, c in codes.items())})",
            errors=errors,
        )
    return ActionRejected(
        "the server refused every recipient",
        errors=errors,
        extra={"smtp_codes": codes},
    )


def _transient(code: int) -> bool:
    return 400 <= code < 500


def _enhanced(message: str) -> str | None:
    match = _ENHANCED.match(message or "")
    return match.group(1) if match else None


def _codes(exc: aiosmtplib.SMTPResponseException) -> str:
    """``550 5.1.1``: the reply code and its enhanced status, never the reply text."""
    enhanced = _enhanced(exc.message)
    return f"{exc.code} {enhanced}" if enhanced else str(exc.code)


def _extra(exc: aiosmtplib.SMTPResponseException) -> dict[str, Any]:
    extra: dict[str, Any] = {"smtp_code": exc.code}
    enhanced = _enhanced(exc.message)
    if enhanced:
        extra["smtp_status"] = enhanced
    return extra


def _certificate_failure(exc: BaseException) -> str | None:
    """The verification message when ``exc`` (or what caused it) is a certificate that
    does not verify: aiosmtplib wraps the TLS error of a connect in SMTPConnectError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_message or "certificate verify failed"
        current = current.__cause__ or current.__context__
    return None
