"""A tiny connector written outside ``hub/``: a fake messaging provider's adapter.

It sends ``send_whatsapp_message`` to the provider's REST API (bearer token) and
turns the provider's signed webhooks (HMAC-SHA256 of the body, hex, in
``X-Fake-Signature``) into ``message.received`` events. ``FakeProvider`` is that
provider, on loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
from aiohttp import web

from hub.actions.handlers import ActionCall, ActionFailed
from hub.connectors.protocol import Connector, InboundEvent, InboundReply, InboundRequest
from hub.runtime import Runtime
from hub.security import targets
from hub.web.errors import ProblemError
from tests.support.processes import free_port


class FakeConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    base_url: str
    sender: str = "+5585000000000"
    api_token: str
    signing_secret: str


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeChannel(Connector[FakeConfig]):
    name = "fake_channel"
    kind = "whatsapp"
    title = "Fake WhatsApp provider"
    config_type = FakeConfig
    secret_fields = frozenset({"api_token", "signing_secret"})
    actions = frozenset({"send_whatsapp_message"})
    inbound = True

    def __init__(self) -> None:
        self.client = httpx.AsyncClient(trust_env=False)
        self.closed = False

    async def validate(self, rt: Runtime, config: FakeConfig) -> None:
        await targets.check_target_url(config.base_url, rt.settings, path="$.config.base_url")

    async def handle(self, rt: Runtime, config: FakeConfig, call: ActionCall) -> Any:
        r = await self.client.post(
            config.base_url.rstrip("/") + "/messages",
            json={"from": config.sender, "to": call.inputs.to, "text": call.inputs.text},
            headers={"authorization": f"Bearer {config.api_token}"},
        )
        if r.status_code >= 400:
            raise ActionFailed("UPSTREAM_ERROR", f"the provider answered {r.status_code}")
        return {"message_id": r.json()["id"], "channel": "whatsapp", "status": "queued"}

    async def receive(
        self, rt: Runtime, config: FakeConfig, request: InboundRequest
    ) -> InboundReply:
        if request.method == "GET":  # the provider's verification challenge
            return InboundReply(body=request.query.get("challenge", "").encode())
        signature = request.headers.get("x-fake-signature", "")
        if not hmac.compare_digest(signature, sign(config.signing_secret, request.body)):
            raise ProblemError("UNAUTHENTICATED", "the webhook signature does not verify")
        payload = json.loads(request.body)
        return InboundReply(
            events=[
                InboundEvent(
                    type="message.received",
                    id=m["id"],
                    occurred_at=datetime.fromtimestamp(m["timestamp"], UTC),
                    data={
                        "message_id": m["id"],
                        "lead": {"lead_id": m.get("lead_id", "lead_unknown")},
                        "channel": "whatsapp",
                        "direction": "inbound",
                        "contact_phone": m["from"],
                        "body": m["text"],
                        "provider": "fake",
                        "provider_message_id": m["id"],
                    },
                )
                for m in payload["messages"]
            ],
            body=b"ok",
        )

    async def aclose(self) -> None:
        self.closed = True
        await self.client.aclose()


@dataclass
class FakeProvider:
    """The provider's REST API on loopback: records what it was asked to send."""

    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    async def send(self, request: web.Request) -> web.Response:
        self.sent.append(await request.json())
        self.tokens.append(request.headers.get("authorization", ""))
        return web.json_response({"id": f"wamid.{len(self.sent)}"}, status=201)


async def start_provider() -> tuple[FakeProvider, web.AppRunner]:
    provider = FakeProvider()
    app = web.Application()
    app.router.add_post("/messages", provider.send)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    provider.url = f"http://127.0.0.1:{port}"
    return provider, runner
