"""Admin subscription management: list, pause, resume, delete, rotate the secret."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update

from hub.audit.models import AuditEntry
from hub.clock import FrozenClock
from hub.hooks.models import Subscription
from hub.hooks.secrets import live_secrets
from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.events.helpers import (
    all_deliveries,
    event,
    publish,
    publisher,
    subscribe,
    subscriber,
    subscription,
)

ADMIN = "/admin/v1/subscriptions"


async def _setup(client: httpx.AsyncClient, factory: Factory) -> dict[str, Any]:
    tenant = await factory.tenant()
    zap = await subscriber(factory, tenant["id"])
    hook = (await subscribe(client, zap["api_key"])).json()
    return {"tenant": tenant, "zap": zap, "hook": hook}


async def test_list_filters_and_tenant_scoped_tokens(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    a = await _setup(client, factory)
    b = await _setup(client, factory)
    await subscribe(client, a["zap"]["api_key"], event="message.sent")

    everything = (await client.get(ADMIN, headers=admin_headers)).json()["items"]
    assert len(everything) == 3
    view = next(s for s in everything if s["id"] == a["hook"]["id"])
    assert view["tenant_id"] == a["tenant"]["id"]
    assert view["integration_id"] == a["zap"]["id"]
    assert view["status"] == "active"
    assert view["secrets"][0]["status"] == "active"
    assert "secret" not in view["secrets"][0]

    def ids(r: httpx.Response) -> set[str]:
        return {s["id"] for s in r.json()["items"]}

    r = await client.get(ADMIN, params={"tenant_id": b["tenant"]["id"]}, headers=admin_headers)
    assert ids(r) == {b["hook"]["id"]}
    r = await client.get(
        ADMIN,
        params={"integration_id": a["zap"]["id"], "event_type": "lead.created"},
        headers=admin_headers,
    )
    assert ids(r) == {a["hook"]["id"]}
    r = await client.get(ADMIN, params={"status": "paused"}, headers=admin_headers)
    assert ids(r) == set()
    r = await client.get(ADMIN, params={"limit": 2}, headers=admin_headers)
    assert len(r.json()["items"]) == 2
    rest = await client.get(
        ADMIN, params={"limit": 2, "cursor": r.json()["next_cursor"]}, headers=admin_headers
    )
    assert len(ids(r) | ids(rest)) == 3

    token = await client.post(
        "/admin/v1/tokens",
        json={"name": "a only", "tenant_id": a["tenant"]["id"]},
        headers=admin_headers,
    )
    scoped = bearer(token.json()["token"])
    assert len((await client.get(ADMIN, headers=scoped)).json()["items"]) == 2
    r = await client.get(ADMIN, params={"tenant_id": b["tenant"]["id"]}, headers=scoped)
    assert r.status_code == 404
    for r in (
        await client.get(f"{ADMIN}/{b['hook']['id']}", headers=scoped),
        await client.post(f"{ADMIN}/{b['hook']['id']}/pause", headers=scoped),
        await client.delete(f"{ADMIN}/{b['hook']['id']}", headers=scoped),
        await client.post(f"{ADMIN}/{b['hook']['id']}/secrets/rotate", headers=scoped),
    ):
        assert r.status_code == 404
    assert (await client.get(f"{ADMIN}/{a['hook']['id']}", headers=scoped)).status_code == 200


async def test_pause_stops_the_fan_out_and_resume_restores_it(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, admin_headers: dict[str, str]
) -> None:
    s = await _setup(client, factory)
    key = await publisher(factory, s["tenant"]["id"])
    hook_id = s["hook"]["id"]
    r = await client.post(f"{ADMIN}/{hook_id}/pause", headers=admin_headers)
    assert r.status_code == 200
    assert r.json()["status"] == "paused"
    await publish(client, key, event("e1"))
    assert await all_deliveries(rt) == []
    r = await client.post(f"{ADMIN}/{hook_id}/resume", headers=admin_headers)
    assert r.json()["status"] == "active"
    await publish(client, key, event("e2"))
    assert len(await all_deliveries(rt)) == 1
    async with rt.db.session() as session:
        actions = [
            a.action
            for a in await session.scalars(
                select(AuditEntry).where(AuditEntry.target_id == hook_id).order_by(AuditEntry.id)
            )
        ]
    assert actions == ["subscription.created", "subscription.paused", "subscription.resumed"]


async def test_resume_re_enables_an_auto_disabled_subscription(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, admin_headers: dict[str, str]
) -> None:
    s = await _setup(client, factory)
    hook_id = s["hook"]["id"]
    async with rt.db.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == hook_id)
            .values(status="disabled", disabled_reason="failing", failing_since=rt.clock.now())
        )
    r = await client.post(f"{ADMIN}/{hook_id}/resume", headers=admin_headers)
    assert r.status_code == 200
    assert r.json()["status"] == "active"
    assert r.json()["failing_since"] is None
    assert r.json()["disabled_reason"] is None
    sub = await subscription(rt, hook_id)
    assert sub.status == "active"
    assert sub.failing_since is None


async def test_delete_is_repeatable_and_final(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    s = await _setup(client, factory)
    hook_id = s["hook"]["id"]
    for _ in range(2):
        assert (await client.delete(f"{ADMIN}/{hook_id}", headers=admin_headers)).status_code == 204
    assert (await client.get(f"{ADMIN}/{hook_id}", headers=admin_headers)).json()["status"] == (
        "deleted"
    )
    zap_headers = bearer(s["zap"]["api_key"])
    assert (await client.get(f"/v1/hooks/{hook_id}", headers=zap_headers)).status_code == 404
    for action in ("pause", "resume", "secrets/rotate"):
        r = await client.post(f"{ADMIN}/{hook_id}/{action}", headers=admin_headers)
        assert r.status_code == 409
    assert (await client.delete(f"{ADMIN}/sub_nope", headers=admin_headers)).status_code == 404


async def test_rotation_keeps_the_old_secret_signing_for_the_grace_period(
    client: httpx.AsyncClient,
    factory: Factory,
    rt: Runtime,
    clock: FrozenClock,
    admin_headers: dict[str, str],
) -> None:
    s = await _setup(client, factory)
    hook_id, old = s["hook"]["id"], s["hook"]["secret"]
    r = await client.post(
        f"{ADMIN}/{hook_id}/secrets/rotate", json={"grace_seconds": 3600}, headers=admin_headers
    )
    assert r.status_code == 201, r.text
    rotated = r.json()
    new = rotated["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert rotated["previous_secrets_expire_at"] is not None

    async def signing() -> list[str]:
        async with rt.db.session() as session:
            return await live_secrets(session, rt.vault, hook_id, clock.now())

    assert await signing() == [new, old]
    view = (await client.get(f"{ADMIN}/{hook_id}", headers=admin_headers)).json()
    assert [x["status"] for x in view["secrets"]] == ["active", "expiring"]
    # Zapier re-subscribing now gets the new secret.
    assert (await subscribe(client, s["zap"]["api_key"])).json()["secret"] == new

    clock.advance(3600)
    assert await signing() == [new]
    r = await client.post(f"{ADMIN}/{hook_id}/secrets/rotate", headers=admin_headers)
    assert r.status_code == 201  # no body: the default grace period
    r = await client.post(
        f"{ADMIN}/{hook_id}/secrets/rotate", json={"grace_seconds": 0}, headers=admin_headers
    )
    assert await signing() == [r.json()["secret"]]
