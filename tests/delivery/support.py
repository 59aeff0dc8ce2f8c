"""Test helpers for the delivery engine: rows straight in the database, and real
HTTP receivers on loopback that answer from a script and count ``webhook-id``s."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web
from sqlalchemy import insert, select

from hub.config import Settings
from hub.delivery.engine import DeliveryEngine
from hub.delivery.models import Delivery, DeliveryAttempt
from hub.hooks.models import Subscription, SubscriptionSecret
from hub.ids import new_id
from hub.runtime import Runtime
from hub.security.signing import new_signing_secret
from hub.tenancy.models import Integration, Tenant

ROOT = Path(__file__).resolve().parents[2]


# -- rows ------------------------------------------------------------------------------


async def make_tenant(
    rt: Runtime,
    *,
    retry_schedule: list[int] | None = None,
    limits: dict[str, Any] | None = None,
) -> str:
    now = rt.clock.now()
    tenant_id = new_id("tenant")
    async with rt.db.transaction() as session:
        session.add(
            Tenant(
                id=tenant_id,
                name="Acme",
                status="active",
                limits=limits or {},
                retry_schedule=retry_schedule,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        session.add(
            Integration(
                id=tenant_id.replace("ten_", "int_"),
                tenant_id=tenant_id,
                name="Zap",
                kind="zapier",
                mode="live",
                scopes=["triggers:*"],
                status="active",
                limits={},
                policy_overrides={},
                created_at=now,
                updated_at=now,
            )
        )
    return tenant_id


def integration_of(tenant_id: str) -> str:
    return tenant_id.replace("ten_", "int_")


@dataclass
class Sub:
    id: str
    tenant_id: str
    secrets: list[str]


async def make_subscription(
    rt: Runtime,
    tenant_id: str,
    target_url: str,
    *,
    rate_per_second: float = 20.0,
    event_type: str = "lead.created",
    secrets: int = 1,
) -> Sub:
    now = rt.clock.now()
    sub_id = new_id("subscription")
    # One subscription per (integration, type, URL): give each its own path.
    target_url = f"{target_url}/{sub_id}"
    plain = [new_signing_secret() for _ in range(secrets)]
    async with rt.db.transaction() as session:
        session.add(
            Subscription(
                id=sub_id,
                tenant_id=tenant_id,
                integration_id=integration_of(tenant_id),
                event_type=event_type,
                target_url=target_url,
                status="active",
                sandbox=False,
                rate_per_second=rate_per_second,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        for secret in plain:
            session.add(
                SubscriptionSecret(
                    id=new_id("subscription").replace("sub_", "sec_"),
                    subscription_id=sub_id,
                    secret_encrypted=rt.vault.encrypt(secret),
                    created_at=now,
                )
            )
    return Sub(sub_id, tenant_id, plain)


def event_body(event_id: str, *, n: int = 0) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "lead.created",
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"lead_id": f"lead_{n}", "company_name": "Acme Ltda"},
        },
        separators=(",", ":"),
    ).encode()


async def make_deliveries(
    rt: Runtime, sub: Sub, count: int = 1, *, received_at: datetime | None = None
) -> list[str]:
    now = rt.clock.now()
    rows: list[dict[str, Any]] = []
    for n in range(count):
        event_id = new_id("event")
        rows.append(
            {
                "id": new_id("delivery"),
                "tenant_id": sub.tenant_id,
                "integration_id": integration_of(sub.tenant_id),
                "subscription_id": sub.id,
                "event_id": event_id,
                "event_type": "lead.created",
                "sandbox": False,
                "body": event_body(event_id, n=n),
                "policy_version": "test",
                "status": "pending",
                "attempt_count": 0,
                "next_attempt_at": now,
                "created_at": now,
                "event_received_at": received_at or now,
                "replay_count": 0,
            }
        )
    async with rt.db.transaction() as session:
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Delivery), rows[start : start + 1000])
    return [r["id"] for r in rows]


async def delivery(rt: Runtime, delivery_id: str) -> Delivery:
    async with rt.db.session() as session:
        found = await session.get(Delivery, delivery_id)
    assert found is not None
    return found


async def attempts(rt: Runtime, delivery_id: str) -> list[DeliveryAttempt]:
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.replay, DeliveryAttempt.number)
        )
        return list(rows)


async def statuses(rt: Runtime, ids: Sequence[str]) -> Counter[str]:
    async with rt.db.session() as session:
        rows = await session.scalars(select(Delivery.status).where(Delivery.id.in_(list(ids))))
        return Counter(rows)


async def subscription(rt: Runtime, sub_id: str) -> Subscription:
    async with rt.db.session() as session:
        found = await session.get(Subscription, sub_id)
    assert found is not None
    return found


def engine_for(rt: Runtime, **settings: Any) -> DeliveryEngine:
    """An engine on ``rt`` with some settings changed (e.g. a short timeout)."""
    if not settings:
        return DeliveryEngine(rt)
    changed = msgspec.structs.replace(rt.settings, **settings)
    return DeliveryEngine(replace(rt, settings=changed))


# -- receivers -------------------------------------------------------------------------


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived


Responder = Callable[["Receiver", Received], Awaitable[web.StreamResponse]]


@dataclass
class Receiver:
    """A real HTTP server standing in for Zapier/Make/a partner's hook."""

    responder: Responder | None = None
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    def count(self, webhook_id: str) -> int:
        return sum(1 for r in self.received if r.webhook_id == webhook_id)

    def counts(self) -> Counter[str]:
        return Counter(r.webhook_id for r in self.received)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        got = Received(
            webhook_id=request.headers.get("webhook-id", ""),
            headers=dict(request.headers),
            body=await request.read(),
            at=time.time(),
        )
        self.received.append(got)
        if self.responder is None:
            return web.Response(status=200, text="ok")
        return await self.responder(self, got)

    async def start(self, path: str = "/hook") -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{path}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def scripted(statuses: Sequence[int], *, headers: dict[str, str] | None = None) -> Responder:
    """Answer the n-th try of each webhook-id with ``statuses[n]`` (the last one repeats)."""

    async def respond(receiver: Receiver, got: Received) -> web.StreamResponse:
        n = receiver.count(got.webhook_id) - 1
        status = statuses[min(n, len(statuses) - 1)]
        return web.Response(status=status, text=f"status {status}", headers=headers or {})

    return respond


def slow(seconds: float, status: int = 200) -> Responder:
    async def respond(receiver: Receiver, got: Received) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(status=status)

    return respond


# -- processes -------------------------------------------------------------------------


def hub_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """Environment of a ``hub`` process sharing this test's database and Redis prefix."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": settings.database_url,
            "HUB_REDIS_URL": settings.redis_url,
            "HUB_REDIS_PREFIX": settings.redis_prefix,
            "HUB_SECRET_KEYS": ",".join(settings.secret_keys),
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_STATE_DIR": settings.state_dir,
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    env.update(overrides)
    return env


async def start_worker(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "worker",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
