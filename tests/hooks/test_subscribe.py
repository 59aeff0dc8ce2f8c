"""POST/GET/DELETE /v1/hooks: the REST-hook contract Zapier and Make depend on."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
from sqlalchemy import select, update

from hub.audit.models import AuditEntry
from hub.hooks.models import Subscription, SubscriptionSecret
from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.events.helpers import TARGET, subscribe, subscriber, subscription


async def test_subscribe_is_idempotent_and_unsubscribe_repeatable(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    key = zap["api_key"]
    first = await subscribe(client, key)
    assert first.status_code == 201, first.text
    hook = first.json()
    assert set(hook) == {"id", "event", "target_url", "status", "secret", "created_at"}
    assert hook["id"].startswith("sub_")
    assert hook["event"] == "lead.created"
    assert hook["target_url"] == TARGET
    assert hook["status"] == "active"
    assert hook["secret"].startswith("whsec_")

    again = await subscribe(client, key)
    assert again.status_code == 200
    assert again.json() == hook  # same subscription, same secret

    listed = (await client.get("/v1/hooks", headers=bearer(key))).json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    got = await client.get(f"/v1/hooks/{hook['id']}", headers=bearer(key))
    assert got.status_code == 200
    assert got.json()["id"] == hook["id"]

    for _ in range(2):
        r = await client.delete(f"/v1/hooks/{hook['id']}", headers=bearer(key))
        assert r.status_code == 204
        assert r.content == b""
    assert (await client.get("/v1/hooks", headers=bearer(key))).json()["items"] == []
    assert (await client.get(f"/v1/hooks/{hook['id']}", headers=bearer(key))).status_code == 404

    fresh = await subscribe(client, key)
    assert fresh.status_code == 201
    assert fresh.json()["id"] != hook["id"]
    assert fresh.json()["secret"] != hook["secret"]


async def test_another_target_or_event_is_another_subscription(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    ids = {
        (await subscribe(client, zap["api_key"], target="http://127.0.0.1:9/a")).json()["id"],
        (await subscribe(client, zap["api_key"], target="http://127.0.0.1:9/b")).json()["id"],
        (await subscribe(client, zap["api_key"], event="message.sent")).json()["id"],
    }
    assert len(ids) == 3


async def test_concurrent_identical_subscribes_create_one(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    responses = await asyncio.gather(*(subscribe(client, zap["api_key"]) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.json()["secret"] for r in responses}) == 1
    async with rt.db.session() as session:
        assert len(list(await session.scalars(select(Subscription)))) == 1


async def test_hooks_of_another_integration_are_not_found(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    owner = await subscriber(factory, tenant["id"])
    hook_id = (await subscribe(client, owner["api_key"])).json()["id"]
    same_tenant = await subscriber(factory, tenant["id"])
    other_tenant = await subscriber(factory, (await factory.tenant("Other"))["id"])
    for intruder in (same_tenant, other_tenant):
        headers = bearer(intruder["api_key"])
        for r in (
            await client.get(f"/v1/hooks/{hook_id}", headers=headers),
            await client.delete(f"/v1/hooks/{hook_id}", headers=headers),
        ):
            assert r.status_code == 404
            assert r.json()["code"] == "NOT_FOUND"
        assert (await client.get("/v1/hooks", headers=headers)).json()["items"] == []
    assert (await subscription(rt, hook_id)).status == "active"
    r = await client.delete("/v1/hooks/sub_doesnotexist", headers=bearer(owner["api_key"]))
    assert r.status_code == 404


async def test_subscribing_needs_the_trigger_scope_and_a_catalog_type(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    narrow = await subscriber(factory, tenant["id"], scopes=["triggers:lead.created"])
    assert (await subscribe(client, narrow["api_key"])).status_code == 201
    r = await subscribe(client, narrow["api_key"], event="message.sent")
    assert r.status_code == 403
    assert r.json()["code"] == "FORBIDDEN_SCOPE"
    wide = await subscriber(factory, tenant["id"])
    r = await subscribe(client, wide["api_key"], event="lead.exploded")
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.event"
    r = await client.post(
        "/v1/hooks",
        json={"event": "lead.created", "target_url": TARGET, "extra": 1},
        headers=bearer(wide["api_key"]),
    )
    assert r.status_code == 422


async def test_non_ascii_targets_are_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    r = await subscribe(client, zap["api_key"], target="http://127.0.0.1:9/ganchô")
    assert r.status_code == 422
    assert r.json()["code"] == "TARGET_NOT_ALLOWED"


async def test_resubscribing_reactivates_an_auto_disabled_hook_but_not_a_paused_one(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    hook_id = (await subscribe(client, zap["api_key"])).json()["id"]
    for status, after in (("paused", "paused"), ("disabled", "active")):
        async with rt.db.transaction() as session:
            await session.execute(
                update(Subscription)
                .where(Subscription.id == hook_id)
                .values(status=status, disabled_reason="failing", failing_since=rt.clock.now())
            )
        r = await subscribe(client, zap["api_key"])
        assert r.status_code == 200
        assert r.json()["status"] == after
    sub = await subscription(rt, hook_id)
    assert sub.failing_since is None
    assert sub.disabled_reason is None


async def test_secrets_are_stored_encrypted_and_subscribes_audited(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    target = "http://127.0.0.1:9/hooks/standard/123/capability-token/"
    hook = (await subscribe(client, zap["api_key"], target=target)).json()
    await client.delete(f"/v1/hooks/{hook['id']}", headers=bearer(zap["api_key"]))
    async with rt.db.session() as session:
        (row,) = list(await session.scalars(select(SubscriptionSecret)))
        audit = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.target_id == hook["id"]).order_by(AuditEntry.id)
            )
        )
    assert hook["secret"] not in row.secret_encrypted
    assert rt.vault.decrypt(row.secret_encrypted) == hook["secret"]
    assert [a.action for a in audit] == ["subscription.created", "subscription.deleted"]
    assert audit[0].actor == f"integration:{zap['id']}"
    assert audit[0].details == {"event_type": "lead.created", "target_host": "127.0.0.1"}
    assert "capability-token" not in msgspec.json.encode(audit[0].details).decode()
