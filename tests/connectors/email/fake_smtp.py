"""An SMTP submission server on loopback: aiosmtpd, for real, on a free port.

``start_smtp`` runs ``aiosmtpd.controller.Controller`` (its own thread and loop) with a
``Recorder`` handler that keeps every envelope and the message bytes as they arrived.
Options: AUTH (an authenticator accepting one user and password), STARTTLS (required,
with a certificate from ``make_certificates``), implicit TLS, SMTPUTF8, and scripted
replies — a refusal for MAIL FROM, for chosen recipients, for DATA, or for AUTH.

``raw_server`` is a bare TCP server for what aiosmtpd will not do: greet with a chosen
line and hang up, or never answer at all.

``make_certificates`` makes a CA and a server certificate it signed (cryptography), so
TLS is verified for real: the test's client context trusts that CA only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.processes import free_port

LOOPBACK = "127.0.0.1"
OK_QUEUED = "250 2.0.0 Ok: queued as 4Bq9Tz0XyKz1"


# -- certificates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca_pem: bytes
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """What the hub uses in the test: verifying, trusting this CA only."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(
    directory: Path, *, dns_names: Sequence[str] = ("localhost",), ips: Sequence[str] = ()
) -> Certificates:
    """A CA and a server certificate for ``dns_names`` / ``ips`` signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("hub test CA"))
        .issuer_name(_name("hub test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0] if dns_names else "server"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificates(ca_cert.public_bytes(serialization.Encoding.PEM), cert_file, key_file)


# -- the server --------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # the message bytes after the DATA transparency is undone
    mail_options: list[str]
    ehlo_name: str | None
    tls: bool
    authenticated: bool
    login: bytes | None


@dataclass
class Recorder:
    """The aiosmtpd handler: records, or answers what the test scripted."""

    user: str | None = None
    password: str | None = None
    auth_reply: str | None = None  # e.g. "454 4.7.0 Temporary authentication failure"
    mail_reply: str | None = None  # e.g. "553 5.7.1 Sender address rejected"
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> refusal
    data_reply: str | None = None  # e.g. "554 5.7.1 Message rejected as spam"
    quit_delay: float = 0.0  # seconds before QUIT is answered (a slow goodbye)
    received: list[Received] = field(default_factory=list)
    ehlos: int = 0
    auth_attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # aiosmtpd calls these from its own thread.

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        with self._lock:
            self.ehlos += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.mail_reply is not None:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.rcpt_replies.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        content = envelope.original_content
        assert isinstance(content, bytes)
        auth_data = session.auth_data
        with self._lock:
            self.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=content,
                    mail_options=list(envelope.mail_options),
                    ehlo_name=session.host_name,
                    tls=_over_tls(server, session),
                    authenticated=bool(session.authenticated),
                    login=auth_data.login if isinstance(auth_data, LoginPassword) else None,
                )
            )
        return OK_QUEUED

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.quit_delay:
            await asyncio.sleep(self.quit_delay)
        return "221 2.0.0 Bye"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        with self._lock:
            self.auth_attempts += 1
        if self.auth_reply is not None:
            return AuthResult(success=False, handled=False, message=self.auth_reply)
        holds = (
            isinstance(auth_data, LoginPassword)
            and self.user is not None
            and self.password is not None
            and auth_data.login == self.user.encode()
            and auth_data.password == self.password.encode()
        )
        if holds:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)  # 535 5.7.8


def _over_tls(server: SMTP, session: Session) -> bool:
    """STARTTLS (``session.ssl``) or implicit TLS (the transport's own context)."""
    transport = server.transport
    implicit = transport is not None and transport.get_extra_info("sslcontext") is not None
    return session.ssl is not None or implicit


@dataclass
class FakeSmtp:
    recorder: Recorder
    host: str
    port: int

    @property
    def received(self) -> list[Received]:
        return self.recorder.received


@contextlib.asynccontextmanager
async def start_smtp(
    recorder: Recorder | None = None,
    *,
    starttls: Certificates | None = None,
    require_starttls: bool = False,
    implicit_tls: Certificates | None = None,
    auth: bool = False,
    auth_require_tls: bool = True,
    smtputf8: bool = True,
) -> AsyncIterator[FakeSmtp]:
    """An aiosmtpd server on 127.0.0.1 (``starttls``: it offers STARTTLS with that
    certificate; ``implicit_tls``: TLS from the first byte)."""
    recorder = recorder or Recorder()
    port = free_port()
    kwargs: dict[str, Any] = {
        "server_hostname": "mx.fake.test",
        "enable_SMTPUTF8": smtputf8,
        "auth_require_tls": auth_require_tls,
        "decode_data": False,
        "timeout": 30,
    }
    if starttls is not None:
        kwargs["tls_context"] = starttls.server_context()
        kwargs["require_starttls"] = require_starttls
    if implicit_tls is not None:
        kwargs["ssl_context"] = implicit_tls.server_context()
        # aiosmtpd counts only STARTTLS as TLS for AUTH: this connection is TLS from its
        # first byte, so AUTH is offered on it.
        kwargs["auth_require_tls"] = False
    if auth:
        kwargs["authenticator"] = recorder.authenticate
        kwargs["auth_required"] = True
    controller = Controller(recorder, hostname=LOOPBACK, port=port, **kwargs)
    await asyncio.to_thread(controller.start)
    # The controller's readiness probe is its own connection: not the test's.
    recorder.ehlos = 0
    try:
        yield FakeSmtp(recorder, LOOPBACK, port)
    finally:
        await asyncio.to_thread(controller.stop)


@dataclass
class RawServer:
    port: int
    connections: int = 0


@contextlib.asynccontextmanager
async def raw_server(greeting: bytes | None) -> AsyncIterator[RawServer]:
    """A TCP server on loopback that sends ``greeting`` and hangs up, or (None) accepts
    and never says anything."""
    state = RawServer(port=0)
    held: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        if greeting is None:
            held.append(writer)  # kept open, silent, until the test ends
            return
        writer.write(greeting)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, LOOPBACK, 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
