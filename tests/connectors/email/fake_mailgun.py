"""Mailgun's messages API, faked at its wire format on loopback, and its webhook signing.

``POST /v3/{domain}/messages.mime`` reads the ``multipart/form-data`` Mailgun documents
(``to`` once or more, ``message`` the MIME as a file, ``v:``/``o:``/``h:`` options),
checks basic auth ``api:{key}`` (a wrong key gets Mailgun's plain ``Forbidden``, 401), an
unknown domain gets ``404 {"message": "Domain not found: …"}``, a missing ``to`` or
``message`` the 400 of Mailgun's error table; a send is answered ``200 {"id":
"<Message-ID of the MIME>", "message": "Queued. Thank you."}`` (for messages.mime Mailgun
keeps the message's own Message-ID). Each call is recorded; a test pushes canned replies.

``signature`` / ``signed`` make a webhook body the way Mailgun signs it: the hex
HMAC-SHA256 of timestamp + token with the webhook signing key.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default
from typing import Any

from aiohttp import web

from tests.support.processes import free_port


@dataclass(frozen=True)
class Call:
    domain: str
    headers: dict[str, str]  # lower-case names
    content_type: str
    to: list[str]
    message: bytes | None
    message_content_type: str | None
    fields: dict[str, list[str]]  # every other form field (v:…, o:…, h:…)


@dataclass(frozen=True)
class Canned:
    status: int
    body: Any  # JSON-able, or str/bytes sent as text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeMailgun:
    api_key: str
    domains: frozenset[str]
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
        self.replies.append(Canned(status, body, dict(headers or {}), delay))

    async def messages_mime(self, request: web.Request) -> web.StreamResponse:
        domain = request.match_info["domain"]
        to: list[str] = []
        message: bytes | None = None
        message_type: str | None = None
        fields: dict[str, list[str]] = {}
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    if name == "message":
                        message = value.file.read()
                        message_type = value.content_type
                    continue
                if name == "to":
                    to.append(str(value))
                else:
                    fields.setdefault(name, []).append(str(value))
        self.calls.append(
            Call(
                domain=domain,
                headers={name.lower(): value for name, value in request.headers.items()},
                content_type=request.content_type,
                to=to,
                message=message,
                message_content_type=message_type,
                fields=fields,
            )
        )
        expected = "Basic " + base64.b64encode(f"api:{self.api_key}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return web.Response(status=401, text="Forbidden")
        if domain not in self.domains:
            return web.json_response({"message": f"Domain not found: {domain}"}, status=404)
        if self.replies:
            return await self._canned(self.replies.popleft())
        if request.content_type != "multipart/form-data":
            return web.json_response(
                {
                    "message": "Invalid request content type. Expecting 'multipart/form-data' "
                    f"but got '{request.content_type}'"
                },
                status=400,
            )
        if not to:
            return web.json_response({"message": "to parameter is missing"}, status=400)
        if message is None:
            return web.json_response({"message": "message parameter is missing"}, status=400)
        parsed = message_from_bytes(message, policy=default)
        message_id = str(parsed.get("Message-ID") or f"<fake{len(self.calls)}@{domain}>")
        return web.json_response({"id": message_id, "message": "Queued. Thank you."})

    async def _canned(self, canned: Canned) -> web.Response:
        if canned.delay:
            await asyncio.sleep(canned.delay)
        if isinstance(canned.body, str | bytes):
            body = canned.body.encode() if isinstance(canned.body, str) else canned.body
            return web.Response(body=body, status=canned.status, headers=canned.headers)
        return web.json_response(canned.body, status=canned.status, headers=canned.headers)


async def start_mailgun(api_key: str, domains: frozenset[str]) -> tuple[FakeMailgun, web.AppRunner]:
    fake = FakeMailgun(api_key=api_key, domains=domains)
    app = web.Application(client_max_size=30 * 1024 * 1024)
    app.router.add_post("/v3/{domain}/messages.mime", fake.messages_mime)
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    return fake, runner


def signature(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's ``signature.signature``: hex HMAC-SHA256 of timestamp + token."""
    return hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    """A token as Mailgun makes them: 50 random characters."""
    return secrets.token_hex(25)


def signed(
    signing_key: str, event_data: Any, timestamp: int, token: str | None = None
) -> dict[str, Any]:
    """A webhook body: ``event_data`` with a fresh signature block."""
    token = token or new_token()
    return {
        "signature": {
            "timestamp": str(timestamp),
            "token": token,
            "signature": signature(signing_key, str(timestamp), token),
        },
        "event-data": event_data,
    }
