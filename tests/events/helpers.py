"""Helpers shared by the events and hooks tests: integrations, events, rows."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from hub.delivery.models import Delivery
from hub.events.catalog import EVENT_TYPES
from hub.events.models import Event
from hub.hooks.models import Subscription
from hub.runtime import Runtime
from hub.sanitize import registry
from tests.conftest import Factory, bearer

TARGET = "http://127.0.0.1:9/hook"


async def publisher(factory: Factory, tenant_id: str, mode: str = "live") -> str:
    """An integration allowed to publish; returns its API key."""
    integration = await factory.integration(
        tenant_id, name="Lead engine", kind="source", mode=mode, scopes=["events:publish"]
    )
    return str(integration["api_key"])


async def subscriber(
    factory: Factory, tenant_id: str, mode: str = "live", scopes: list[str] | None = None
) -> dict[str, Any]:
    return await factory.integration(
        tenant_id, name=f"Zap {mode}", mode=mode, scopes=scopes or ["triggers:*"]
    )


async def subscribe(
    client: httpx.AsyncClient, key: str, event: str = "lead.created", target: str = TARGET
) -> httpx.Response:
    return await client.post(
        "/v1/hooks", json={"event": event, "target_url": target}, headers=bearer(key)
    )


def event(producer_id: str, event_type: str = "lead.created", **data: Any) -> dict[str, Any]:
    sample = copy.deepcopy(EVENT_TYPES[event_type].sample)
    sample.update(data)
    return {"id": producer_id, "type": event_type, "data": sample}


async def publish(client: httpx.AsyncClient, key: str, body: Any) -> httpx.Response:
    return await client.post("/v1/events", json=body, headers=bearer(key))


async def all_events(rt: Runtime) -> list[Event]:
    async with rt.db.session() as session:
        return list(await session.scalars(select(Event).order_by(Event.id)))


async def all_deliveries(rt: Runtime) -> list[Delivery]:
    async with rt.db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def subscription(rt: Runtime, subscription_id: str) -> Subscription:
    async with rt.db.session() as session:
        sub = await session.get(Subscription, subscription_id)
    assert sub is not None
    return sub


def use_policies_without(tmp_path: Path, *missing: str) -> registry.PolicySet:
    """Load the policies minus ``missing`` as the process's policies (undo with
    monkeypatch: callers set ``registry._default`` through it)."""
    directory = tmp_path / "policies"
    directory.mkdir()
    for path in registry.POLICIES_DIR.glob("*.json"):
        if path.name.removesuffix(".json") not in missing:
            shutil.copy(path, directory / path.name)
    return registry.PolicySet.load(directory)
