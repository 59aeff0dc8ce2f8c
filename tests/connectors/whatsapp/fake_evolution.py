"""Evolution API v2 on loopback, at its wire format, and Evolution's webhook calls.

``FakeEvolution`` serves ``POST /message/sendText/{instance}`` as Evolution does: its
guards first (an unknown instance is 404, then a wrong ``apikey`` 401, with Evolution's
error bodies), then the JSON Schema of the body (400), then the send: the answer of
``send_success.json`` with a fresh message id, or the next reply a test queued.

``webhook_request`` builds the call Evolution makes to the hub's inbound URL, with the
``apikey`` header or the ``Authorization: Bearer`` JWT Evolution signs with the webhook's
``jwt_key`` (HS256, ``iat``/``exp`` ten minutes apart, ``app``/``action`` claims: the
payload of ``WebhookController.generateJwtToken``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web

from hub.connectors.protocol import InboundRequest
from tests.support.processes import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whatsapp" / "evolution"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass(frozen=True)
class Call:
    """One request that reached ``sendText``: its instance, headers and JSON body."""

    instance: str
    headers: dict[str, str]  # lower-case names
    body: Any


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeEvolution:
    api_key: str
    instances: frozenset[str]
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)
    sent: int = 0

    def push(
        self,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next send with this (then the success answer again)."""
        self.replies.append(Reply(status, body, headers or {}, delay))

    async def send_text(self, request: web.Request) -> web.StreamResponse:
        instance = request.match_info["instance"]
        if instance not in self.instances:  # instanceExistsGuard runs before the apikey
            return _error(404, fixture("error_404_instance"), instance=instance)
        if request.headers.get("apikey") != self.api_key:
            return _error(401, fixture("error_401"))
        body = await request.json()
        self.calls.append(Call(instance, {k.lower(): v for k, v in request.headers.items()}, body))
        if self.replies:
            return await _canned(self.replies.popleft())
        missing = [name for name in ("number", "text") if name not in body]
        if missing:
            return _error(
                400,
                {
                    "status": 400,
                    "error": "Bad Request",
                    "response": {
                        "message": [[f'instance requires property "{name}"' for name in missing]]
                    },
                },
            )
        return web.json_response(self._success(body), status=201)

    def _success(self, body: dict[str, Any]) -> dict[str, Any]:
        self.sent += 1
        answer = fixture("send_success")
        answer["key"]["remoteJid"] = f"{body['number']}@s.whatsapp.net"
        answer["key"]["id"] = f"BAE5{self.sent:012X}"
        answer["message"]["extendedTextMessage"]["text"] = body["text"]
        answer["messageTimestamp"] = str(int(time.time()))
        return answer


def _error(status: int, body: Any, *, instance: str | None = None) -> web.Response:
    if instance is not None:
        body["response"]["message"] = [f'The "{instance}" instance does not exist']
    return web.json_response(body, status=status)


async def _canned(reply: Reply) -> web.Response:
    if reply.delay:
        await asyncio.sleep(reply.delay)
    if isinstance(reply.body, bytes):
        return web.Response(body=reply.body, status=reply.status, headers=reply.headers)
    return web.json_response(reply.body, status=reply.status, headers=reply.headers)


async def start_evolution(
    api_key: str, instances: frozenset[str]
) -> tuple[FakeEvolution, web.AppRunner]:
    fake = FakeEvolution(api_key=api_key, instances=instances)
    app = web.Application()
    app.router.add_post("/message/sendText/{instance}", fake.send_text)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    return fake, runner


# -- webhook calls ---------------------------------------------------------------------


def jwt_token(
    key: str | None,
    *,
    now: int | None = None,
    ttl: int = 600,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """The token Evolution puts in ``Authorization: Bearer`` (``claims`` override or, set to
    None, remove its own)."""
    issued = int(time.time()) if now is None else now
    payload: dict[str, Any] = {
        "iat": issued,
        "exp": issued + ttl,
        "app": "evolution",
        "action": "webhook",
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm)


def webhook_headers(*, apikey: str | None = None, token: str | None = None) -> dict[str, str]:
    """Lower-case headers of an Evolution webhook call (``InboundRequest.headers``)."""
    headers = {"content-type": "application/json", "user-agent": "axios/1.7.9"}
    if apikey is not None:
        headers["apikey"] = apikey
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return headers


def webhook_body(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a fixture's call with top-level fields replaced."""
    body = copy.deepcopy(payload)
    body.update(changes)
    return body


def webhook_request(
    body: dict[str, Any] | bytes,
    *,
    apikey: str | None = None,
    jwt_key: str | None = None,
    token: str | None = None,
    method: str = "POST",
    received_at: datetime | None = None,
) -> InboundRequest:
    """Evolution's call to the hub: authenticated by ``apikey``, by a JWT signed now with
    ``jwt_key``, or by the given ``token``."""
    if jwt_key is not None:
        token = jwt_token(jwt_key)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundRequest(
        method=method,
        headers=webhook_headers(apikey=apikey, token=token),
        query={},
        body=raw,
        received_at=received_at or datetime(2024, 6, 6, 12, 51, 40, tzinfo=UTC),
    )
