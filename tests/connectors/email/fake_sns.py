"""Amazon SNS's side of an HTTPS subscription, made for real on loopback.

A self-made CA issues two certificates: the TLS certificate of a loopback HTTPS server
(aiohttp) and the RSA certificate SNS signs messages with. The server publishes the
signing certificate at a ``SimpleNotificationService-….pem`` path, the way
``sns.<region>.amazonaws.com`` does, and answers ``?Action=ConfirmSubscription`` the
way SNS does, recording each call. ``sign`` builds the string to sign as SNS documents
it (docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html) and signs
it with SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2).

``fetch_certificate`` / ``confirm`` / ``host_rule`` are what a test injects into
``SesProvider``: they reach this server over TLS verified against the test CA only.
"""

from __future__ import annotations

import base64
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.support.processes import free_port

VALID_FROM = datetime(2020, 1, 1, tzinfo=UTC)
VALID_UNTIL = datetime(2035, 1, 1, tzinfo=UTC)
CERT_PATH = "/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"

CONFIRM_RESPONSE = b"""<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <ConfirmSubscriptionResult>
    <SubscriptionArn>arn:aws:sns:us-west-2:123456789012:MyTopic:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55</SubscriptionArn>
  </ConfirmSubscriptionResult>
  <ResponseMetadata><RequestId>075ecce8-8dac-11e1-bf80-f781d96e9307</RequestId></ResponseMetadata>
</ConfirmSubscriptionResponse>
"""


@dataclass(frozen=True)
class Issued:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hub Test CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca() -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name("Hub Test Root CA")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, certificate)


def issue(
    ca: Issued,
    common_name: str,
    *,
    ip: str | None = None,
    not_before: datetime = VALID_FROM,
    not_after: datetime = VALID_UNTIL,
) -> Issued:
    """A certificate signed by ``ca`` (a TLS server's when ``ip`` is given)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def client_context(ca: Issued) -> ssl.SSLContext:
    """TLS that trusts the test CA and nothing else."""
    return ssl.create_default_context(cadata=ca.pem.decode())


def server_context(server: Issued) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert.write_bytes(server.pem)
        key.write_bytes(server.key_pem)
        context.load_cert_chain(cert, key)
    return context


def string_to_sign(message: dict[str, Any]) -> bytes:
    """The string SNS signs (written from SNS's documentation, independently of the
    provider's own)."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId"]
        if "Subject" in message:
            names.append("Subject")
        names += ["Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{name}\n{message[name]}\n" for name in names).encode()


@dataclass
class FakeSns:
    """The loopback HTTPS server, the signing certificate, and what was asked of them."""

    ca: Issued
    signing: Issued
    port: int = 0
    cert_fetches: int = 0
    confirmations: list[dict[str, str]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def cert_url(self) -> str:
        return self.base_url + CERT_PATH

    def subscribe_url(self, topic_arn: str, token: str) -> str:
        query = urlencode(
            {"Action": "ConfirmSubscription", "TopicArn": topic_arn, "Token": token}, safe=":"
        )
        return f"{self.base_url}/?{query}"

    def sign(
        self,
        message: dict[str, Any],
        *,
        version: str = "1",
        key: rsa.RSAPrivateKey | None = None,
        cert_url: str | None = None,
    ) -> dict[str, Any]:
        """``message`` with SNS's SignatureVersion, Signature and SigningCertURL."""
        signed = {
            k: v
            for k, v in message.items()
            if k not in ("Signature", "SignatureVersion", "SigningCertURL")
        }
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = (key or self.signing.key).sign(
            string_to_sign(signed), padding.PKCS1v15(), algorithm
        )
        signed["SignatureVersion"] = version
        signed["Signature"] = base64.b64encode(signature).decode()
        signed["SigningCertURL"] = cert_url or self.cert_url
        return signed

    # What a test injects into SesProvider.

    def host_rule(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme == "https" and parts.hostname == "127.0.0.1" and parts.port == self.port

    async def fetch_certificate(self, url: str) -> bytes:
        async with httpx.AsyncClient(verify=client_context(self.ca), trust_env=False) as client:
            response = await client.get(url)
        response.raise_for_status()
        return response.content

    async def confirm(self, url: str) -> None:
        async with httpx.AsyncClient(verify=client_context(self.ca), trust_env=False) as client:
            response = await client.get(url)
        response.raise_for_status()

    # The server.

    async def _certificate(self, request: web.Request) -> web.Response:
        self.cert_fetches += 1
        return web.Response(body=self.signing.pem, content_type="application/x-x509-ca-cert")

    async def _root(self, request: web.Request) -> web.Response:
        if request.query.get("Action") != "ConfirmSubscription":
            return web.Response(status=400)
        self.confirmations.append(dict(request.query))
        return web.Response(body=CONFIRM_RESPONSE, content_type="text/xml")


async def start_sns(ca: Issued | None = None) -> tuple[FakeSns, web.AppRunner]:
    ca = ca or make_ca()
    fake = FakeSns(ca=ca, signing=issue(ca, "sns.amazonaws.com"))
    tls = server_context(issue(ca, "127.0.0.1", ip="127.0.0.1"))
    app = web.Application()
    app.router.add_get(CERT_PATH, fake._certificate)
    app.router.add_get("/", fake._root)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    fake.port = free_port()
    await web.TCPSite(runner, "127.0.0.1", fake.port, ssl_context=tls).start()
    return fake, runner
