"""The outbox fan-out: which subscriptions get a delivery, and what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import update

from hub.events import ingest
from hub.hooks.models import Subscription
from hub.runtime import Runtime
from hub.sanitize import registry
from tests.conftest import Factory
from tests.events.helpers import (
    all_deliveries,
    all_events,
    event,
    publish,
    publisher,
    subscribe,
    subscriber,
    use_policies_without,
)


async def _hook(client: httpx.AsyncClient, integration: dict[str, Any], **kw: Any) -> str:
    r = await subscribe(client, integration["api_key"], **kw)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_one_pending_delivery_per_matching_subscription(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    zap = await subscriber(factory, tenant["id"])
    hooks = {
        await _hook(client, zap, target="http://127.0.0.1:9/a"),
        await _hook(client, zap, target="http://127.0.0.1:9/b"),
    }
    await _hook(client, zap, event="message.sent")  # another type: nothing
    other_tenant = await factory.tenant("Other")
    await _hook(client, await subscriber(factory, other_tenant["id"]))  # another tenant

    r = await publish(client, key, {"events": [event("e1"), event("e2")]})
    assert r.json()["accepted"] == 2
    deliveries = await all_deliveries(rt)
    events = {e.id: e for e in await all_events(rt)}
    assert len(deliveries) == 4
    assert {d.subscription_id for d in deliveries} == hooks
    now = rt.clock.now()
    for d in deliveries:
        assert d.status == "pending"
        assert d.attempt_count == 0
        assert d.next_attempt_at == now
        assert d.created_at == now
        assert d.event_received_at == now
        assert d.tenant_id == tenant["id"]
        assert d.integration_id == zap["id"]
        assert d.policy_version == "lead.created@1"
        assert d.sandbox is False
        assert d.body is not None
        body = msgspec.json.decode(d.body)
        assert list(body) == ["id", "type", "occurred_at", "data"]
        assert body["id"] == d.event_id
        assert body["type"] == "lead.created"
        assert body["occurred_at"] == events[d.event_id].occurred_at.isoformat().replace(
            "+00:00", "Z"
        )
        assert "raw_email" not in body["data"]
        assert body["data"]["contact"]["emails"][0]["address"] == "j***@p***.example"


@pytest.mark.parametrize("publisher_mode", ["live", "sandbox"])
async def test_sandbox_events_reach_only_sandbox_subscriptions(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, publisher_mode: str
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"], mode=publisher_mode)
    live = await _hook(client, await subscriber(factory, tenant["id"], mode="live"))
    sandbox = await _hook(client, await subscriber(factory, tenant["id"], mode="sandbox"))
    await publish(client, key, event("e1"))
    (delivery,) = await all_deliveries(rt)
    assert delivery.body is not None
    body = msgspec.json.decode(delivery.body)
    if publisher_mode == "sandbox":
        assert delivery.subscription_id == sandbox
        assert delivery.sandbox is True
        assert body["sandbox"] is True
        assert list(body) == ["id", "type", "occurred_at", "data", "sandbox"]
    else:
        assert delivery.subscription_id == live
        assert "sandbox" not in body
    (stored,) = await all_events(rt)
    assert stored.sandbox is (publisher_mode == "sandbox")


@pytest.mark.parametrize("status", ["paused", "disabled", "deleted"])
async def test_inactive_subscriptions_get_nothing(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, status: str
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    hook = await _hook(client, await subscriber(factory, tenant["id"]))
    async with rt.db.transaction() as session:
        await session.execute(
            update(Subscription).where(Subscription.id == hook).values(status=status)
        )
    await publish(client, key, event("e1"))
    assert await all_deliveries(rt) == []


async def test_a_disabled_integrations_subscriptions_get_nothing(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, admin_headers: dict[str, str]
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    zap = await subscriber(factory, tenant["id"])
    await _hook(client, zap)
    r = await client.patch(
        f"/admin/v1/integrations/{zap['id']}", json={"status": "disabled"}, headers=admin_headers
    )
    assert r.status_code == 200
    await publish(client, key, event("e1"))
    assert await all_deliveries(rt) == []


async def test_overrides_narrow_per_integration_and_record_their_version(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, admin_headers: dict[str, str]
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    plain = await subscriber(factory, tenant["id"])
    narrowed = await subscriber(factory, tenant["id"])
    r = await client.patch(
        f"/admin/v1/integrations/{narrowed['id']}",
        json={"policy_overrides": {"lead.created": {"contact": "drop", "company_name": "hash"}}},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    plain_hook = await _hook(client, plain)
    narrowed_hook = await _hook(client, narrowed)
    await publish(client, key, event("e1"))
    by_sub = {d.subscription_id: d for d in await all_deliveries(rt)}
    assert by_sub[plain_hook].policy_version == "lead.created@1"
    assert by_sub[narrowed_hook].policy_version.startswith("lead.created@1+o.")
    plain_body = msgspec.json.decode(by_sub[plain_hook].body or b"")
    narrowed_body = msgspec.json.decode(by_sub[narrowed_hook].body or b"")
    assert plain_body["data"]["company_name"] == "Padaria Pão Dourado Ltda"
    assert "contact" in plain_body["data"]
    assert "contact" not in narrowed_body["data"]
    assert len(narrowed_body["data"]["company_name"]) == 32  # a pseudonym


async def test_hash_is_stable_within_a_tenant_and_differs_across_tenants(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    documents: dict[str, set[str]] = {}
    for name in ("A", "B"):
        tenant = await factory.tenant(name)
        key = await publisher(factory, tenant["id"])
        await _hook(client, await subscriber(factory, tenant["id"]))
        await publish(client, key, {"events": [event("e1"), event("e2")]})
        documents[tenant["id"]] = set()
    for d in await all_deliveries(rt):
        documents[d.tenant_id].add(msgspec.json.decode(d.body or b"")["data"]["document"])
    a, b = documents.values()
    assert len(a) == 1
    assert len(b) == 1
    assert a != b
    assert "12345678000190" not in a | b


async def test_deliveries_are_handed_over_only_after_commit(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    await _hook(client, await subscriber(factory, tenant["id"]))
    seen: list[int] = []
    real = ingest.enqueue_deliveries

    async def spy(runtime: Runtime, ids: list[str]) -> None:
        # A fresh session sees the rows only if the ingest transaction committed.
        seen.append(len([d for d in await all_deliveries(runtime) if d.id in set(ids)]))
        await real(runtime, ids)

    monkeypatch.setattr(ingest, "enqueue_deliveries", spy)
    await publish(client, key, {"events": [event("e1"), event("e2")]})
    assert seen == [2]


async def test_an_event_type_without_policy_is_never_delivered(
    client: httpx.AsyncClient,
    factory: Factory,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    await _hook(client, await subscriber(factory, tenant["id"]))
    # The policy file disappears after the subscription was made.
    monkeypatch.setattr(registry, "_default", use_policies_without(tmp_path, "lead.created"))
    r = await publish(client, key, event("e1"))
    assert r.json()["accepted"] == 1  # stored, but fail closed: nothing leaves
    assert await all_deliveries(rt) == []
