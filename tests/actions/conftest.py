"""Fixtures of the actions suite: a real upstream product on loopback, live and sandbox
integrations, and helpers to call actions and read what was stored."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest
from aiohttp import web
from sqlalchemy import func, select

from hub.actions.models import Execution, IdempotencyRecord
from hub.runtime import Runtime
from tests.conftest import Factory, bearer


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON; None -> default outputs for the action
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return msgspec.json.decode(self.body)


def default_outputs(action: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
    ref = hashlib.sha256(key.encode()).hexdigest()[:20]
    inputs = payload.get("inputs", {})
    if action == "create_lead":
        return {"lead_id": f"lead_{ref}", "status": inputs.get("status", "new")}
    if action == "update_lead":
        return {"lead_id": inputs["lead_id"], "updated_fields": sorted(inputs)}
    if action == "schedule_appointment":
        return {
            "appointment_id": f"apt_{ref}",
            "lead_id": inputs["lead_id"],
            "kind": inputs["kind"],
            "scheduled_for": inputs["scheduled_for"],
        }
    return {"message_id": f"msg_{ref}", "channel": "email" if "subject" in inputs else "whatsapp"}


class Upstream:
    """The tenant's product: counts calls and answers what the test scripted."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.script: deque[Reply] = deque()
        self.url = ""
        self.secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()

    def reply(self, status: int = 200, body: Any = None, **kw: Any) -> None:
        self.script.append(Reply(status=status, body=body, **kw))

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.calls.append(
            Call(request.path, {k.lower(): v for k, v in request.headers.items()}, raw)
        )
        reply = self.script.popleft() if self.script else Reply()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        body = reply.body
        if body is None and reply.status == 200:
            payload = msgspec.json.decode(raw)
            body = {
                "outputs": default_outputs(
                    payload["action"], payload, request.headers.get("idempotency-key", "")
                )
            }
        return web.Response(
            status=reply.status,
            body=msgspec.json.encode(body) if body is not None else b"",
            content_type="application/json",
            headers=reply.headers,
        )


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    product = Upstream()
    app = web.Application()
    app.router.add_post("/{tail:.*}", product.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    product.url = f"http://127.0.0.1:{port}/hub"
    yield product
    await runner.cleanup()


@dataclass
class Caller:
    """One integration calling actions."""

    client: httpx.AsyncClient
    integration: dict[str, Any]
    tenant_id: str

    @property
    def api_key(self) -> str:
        return str(self.integration["api_key"])

    @property
    def id(self) -> str:
        return str(self.integration["id"])

    async def act(
        self,
        action: str,
        body: Any,
        key: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:
        sent = {**bearer(self.api_key), "content-type": "application/json", **(headers or {})}
        if key is not None:
            sent["Idempotency-Key"] = key
        content = raw if raw is not None else msgspec.json.encode(body)
        return await self.client.post(f"/v1/actions/{action}", content=content, headers=sent)


@pytest.fixture
async def live(factory: Factory, upstream: Upstream, client: httpx.AsyncClient) -> Caller:
    """A live integration whose tenant's upstream is the loopback product."""
    tenant = await factory.tenant("Acme")
    r = await client.patch(
        f"/admin/v1/tenants/{tenant['id']}",
        json={"upstream_url": upstream.url, "upstream_secret": upstream.secret},
        headers=factory.admin_headers,
    )
    assert r.status_code == 200, r.text
    integration = await factory.integration(tenant["id"], name="Live zap", mode="live")
    return Caller(client, integration, tenant["id"])


@pytest.fixture
async def sandbox(factory: Factory, client: httpx.AsyncClient) -> Caller:
    tenant = await factory.tenant("Sandbox Co")
    integration = await factory.integration(tenant["id"], name="Sandbox zap", mode="sandbox")
    return Caller(client, integration, tenant["id"])


def new_key() -> str:
    return str(uuid.uuid4())


LEAD = {
    "company_name": "Exemplo Comércio Ltda",
    "contact_name": "João Silva",
    "document": "12345678000199",
    "emails": ["joao.silva@exemplo.com.br"],
    "phones": ["+5585999990000"],
    "tags": ["inbound"],
    "source": "website-form",
}


async def count_rows(rt: Runtime) -> tuple[int, int]:
    """(idempotency records, executions)."""
    async with rt.db.session() as session:
        records = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
        executions = await session.scalar(select(func.count()).select_from(Execution))
    return int(records or 0), int(executions or 0)
