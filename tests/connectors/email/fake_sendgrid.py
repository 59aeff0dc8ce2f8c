"""SendGrid's v3 Mail Send API, faked at its wire format on loopback, and the Signed
Event Webhook's key pair.

``POST /v3/mail/send`` checks the bearer key (a wrong one gets SendGrid's own 401 body),
records each call, refuses a body without personalizations or ``from`` the way SendGrid
does (400 with its ``{"errors": [{"message", "field", "help"}]}``), and answers
``202 Accepted`` with an empty body and an ``X-Message-Id`` header. A test pushes canned
replies (a status, a body, headers, a delay) to make the next calls fail.

``EventSigner`` is what SendGrid does with the Event Webhook: an ECDSA P-256 key pair
whose public half is shown (base64 DER SubjectPublicKeyInfo) and whose private half signs
``timestamp + body`` (SHA-256, base64 DER signature) for the
``X-Twilio-Email-Event-Webhook-Signature`` / ``-Timestamp`` headers.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.processes import free_port

UNAUTHORIZED_BODY: dict[str, Any] = {
    "errors": [
        {
            "message": "The provided authorization grant is invalid, expired, or revoked",
            "field": None,
            "help": None,
        }
    ]
}
PERSONALIZATIONS_REQUIRED: dict[str, Any] = {
    "errors": [
        {
            "message": "The personalizations field is required and must have at least one "
            "personalization.",
            "field": "personalizations",
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
            "#-Personalizations-Errors",
        }
    ]
}
FROM_REQUIRED: dict[str, Any] = {
    "errors": [
        {
            "message": "The from object must be provided for every email send. It is an "
            "object that requires the email parameter, but may also contain a name parameter.",
            "field": "from",
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
            "#message.from",
        }
    ]
}


@dataclass(frozen=True)
class Call:
    headers: dict[str, str]  # lower-case names
    body: Any


@dataclass(frozen=True)
class Canned:
    status: int
    body: Any  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeSendGrid:
    api_key: str
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    replies: deque[Canned] = field(default_factory=deque)

    def reply_next(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next call with this instead of a success."""
        self.replies.append(Canned(status, body, dict(headers or {}), delay))

    def message_id(self, n: int) -> str:
        """The ``X-Message-Id`` of the ``n``-th call (22 characters, as SendGrid's are)."""
        return f"FakeSendGridMsg{n:07d}"

    async def mail_send(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        self.calls.append(
            Call(
                headers={name.lower(): value for name, value in request.headers.items()},
                body=body,
            )
        )
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return web.json_response(UNAUTHORIZED_BODY, status=401)
        if self.replies:
            return await self._canned(self.replies.popleft())
        if not isinstance(body, dict) or not body.get("personalizations"):
            return web.json_response(PERSONALIZATIONS_REQUIRED, status=400)
        if not isinstance(body.get("from"), dict) or not body["from"].get("email"):
            return web.json_response(FROM_REQUIRED, status=400)
        return web.Response(status=202, headers={"X-Message-Id": self.message_id(len(self.calls))})

    async def _canned(self, canned: Canned) -> web.Response:
        if canned.delay:
            await asyncio.sleep(canned.delay)
        if isinstance(canned.body, bytes):
            return web.Response(body=canned.body, status=canned.status, headers=canned.headers)
        return web.json_response(canned.body, status=canned.status, headers=canned.headers)


async def start_sendgrid(api_key: str) -> tuple[FakeSendGrid, web.AppRunner]:
    fake = FakeSendGrid(api_key=api_key)
    app = web.Application()
    app.router.add_post("/v3/mail/send", fake.mail_send)
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    return fake, runner


class EventSigner:
    """The Signed Event Webhook's key pair, made for the test."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key(self) -> str:
        """What SendGrid shows as the verification key: base64 DER SubjectPublicKeyInfo."""
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    @property
    def public_key_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, timestamp: str, body: bytes) -> str:
        der = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: str = "1765202410") -> dict[str, str]:
        """The headers SendGrid posts ``body`` with (lower-case names, as the hub hands
        them to connectors)."""
        return {
            "content-type": "application/json",
            "user-agent": "SendGrid Event API",
            "x-twilio-email-event-webhook-signature": self.sign(timestamp, body),
            "x-twilio-email-event-webhook-timestamp": timestamp,
        }
