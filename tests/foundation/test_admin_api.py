"""The admin API's resources: tenants, integrations (with their keys), tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from hub.app import Hub, create_app
from hub.clock import FrozenClock
from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin, problem
from tests.support.snapshots import unchanged


async def test_tenants_are_created_listed_read_and_patched(
    admin: Admin, clock: FrozenClock
) -> None:
    r = await admin.post("/tenants", {"name": "  Acme Ltda  "})
    assert r.status_code == 201
    tenant = r.json()
    assert tenant["id"].startswith("ten_")
    assert tenant["name"] == "Acme Ltda"
    assert tenant["status"] == "active"
    assert tenant["upstream_url"] is None
    assert tenant["upstream_secret_set"] is False
    assert datetime.fromisoformat(tenant["created_at"]) == clock.now()

    assert (await admin.get(f"/tenants/{tenant['id']}")).json() == tenant
    listed = (await admin.get("/tenants")).json()
    assert listed == {"items": [tenant], "next_cursor": None}

    clock.advance(60)
    r = await admin.patch(
        f"/tenants/{tenant['id']}",
        {
            "name": "Acme S.A.",
            "upstream_url": "http://127.0.0.1:9/hub",
            "upstream_secret": "s" * 32,
            "limits": {"actions_per_minute": 120},
            "retry_schedule": [10, 60, 600],
        },
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["name"] == "Acme S.A."
    assert patched["upstream_url"] == "http://127.0.0.1:9/hub"
    assert patched["upstream_secret_set"] is True
    assert patched["limits"] == {"actions_per_minute": 120}
    assert patched["retry_schedule"] == [10, 60, 600]
    assert datetime.fromisoformat(patched["updated_at"]) == clock.now()
    assert patched["created_at"] == tenant["created_at"]

    # Absent fields stay; null clears what may be cleared.
    r = await admin.patch(f"/tenants/{tenant['id']}", {"upstream_url": None})
    cleared = r.json()
    assert cleared["upstream_url"] is None
    assert cleared["upstream_secret_set"] is True
    assert cleared["name"] == "Acme S.A."


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "scheme"),
        ("http://user:pw@127.0.0.1/x", "credentials"),
        ("not a url", "scheme"),
        ("http://no-such-host.invalid/x", "resolve"),
    ],
)
async def test_an_upstream_url_must_be_a_reachable_target(
    rt: Runtime, factory: Factory, admin: Admin, url: str, reason: str
) -> None:
    tenant = await factory.tenant()
    async with unchanged(rt.db):
        r = await admin.patch(f"/tenants/{tenant['id']}", {"upstream_url": url})
    body = problem(r, 422, "TARGET_NOT_ALLOWED")
    assert body["errors"][0]["path"] == "$.upstream_url"
    assert reason in body["errors"][0]["message"]


async def test_private_upstreams_are_refused_unless_allowed(
    rt: Runtime, hub: Hub, factory: Factory
) -> None:
    import msgspec

    tenant = await factory.tenant()
    strict = msgspec.structs.replace(rt.settings, allow_private_targets=False)
    transport = httpx.ASGITransport(app=create_app(strict, hub=hub))
    original, rt.settings = rt.settings, strict  # the runtime's settings guard the check
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
            r = await c.patch(
                f"/admin/v1/tenants/{tenant['id']}",
                json={"upstream_url": "http://127.0.0.1:9/x"},
                headers=bearer(strict.bootstrap_admin_token or ""),
            )
    finally:
        rt.settings = original
    assert "private" in problem(r, 422, "TARGET_NOT_ALLOWED")["errors"][0]["message"]


async def test_integrations_are_created_listed_read_and_patched(
    factory: Factory, admin: Admin, clock: FrozenClock
) -> None:
    tenant = await factory.tenant()
    r = await admin.post(
        f"/tenants/{tenant['id']}/integrations",
        {
            "name": "Make scenario",
            "kind": "make",
            "mode": "sandbox",
            "scopes": ["triggers:lead.created", "actions:*", "actions:*"],
        },
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"].startswith("int_")
    assert created["tenant_id"] == tenant["id"]
    assert (created["kind"], created["mode"], created["status"]) == ("make", "sandbox", "active")
    assert created["scopes"] == ["actions:*", "triggers:lead.created"]
    assert created["api_key"].startswith(f"hk_{created['key_id']}_")

    one = (await admin.get(f"/integrations/{created['id']}")).json()
    assert "api_key" not in one  # shown once, at creation
    assert one["keys"] == [
        {
            "key_id": created["key_id"],
            "status": "active",
            "created_at": created["created_at"],
            "expires_at": None,
            "revoked_at": None,
            "last_used_at": None,
        }
    ]
    listed = (await admin.get(f"/tenants/{tenant['id']}/integrations")).json()["items"]
    assert listed == [one]

    clock.advance(1)
    r = await admin.patch(
        f"/integrations/{created['id']}",
        {"name": "Renamed", "scopes": ["events:publish"], "limits": {"actions_per_day": 10}},
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["name"] == "Renamed"
    assert patched["scopes"] == ["events:publish"]
    assert patched["limits"] == {"actions_per_day": 10}
    assert patched["mode"] == "sandbox"  # mode is chosen at creation only
    me = await admin.client.get("/v1/me", headers=bearer(created["api_key"]))
    assert me.json()["scopes"] == ["events:publish"]


async def test_integration_defaults(factory: Factory, admin: Admin) -> None:
    tenant = await factory.tenant()
    r = await admin.post(f"/tenants/{tenant['id']}/integrations", {"name": "p", "kind": "partner"})
    created = r.json()
    assert (created["mode"], created["scopes"]) == ("live", [])


async def test_integrations_of_an_unknown_tenant(rt: Runtime, admin: Admin) -> None:
    async with unchanged(rt.db):
        problem(await admin.get("/tenants/ten_nope/integrations"), 404, "NOT_FOUND")
        r = await admin.post("/tenants/ten_nope/integrations", {"name": "x", "kind": "zapier"})
        problem(r, 404, "NOT_FOUND")
        problem(await admin.patch("/integrations/int_nope", {"name": "x"}), 404, "NOT_FOUND")
        problem(await admin.patch("/tenants/ten_nope", {"name": "x"}), 404, "NOT_FOUND")
        problem(await admin.post("/integrations/int_nope/keys/rotate"), 404, "NOT_FOUND")


async def test_admin_tokens_work_once_created(client: httpx.AsyncClient, admin: Admin) -> None:
    r = await admin.post("/tokens", {"name": "ops"})
    assert r.status_code == 201
    created = r.json()
    assert created["id"].startswith("adm_")
    assert created["token"].startswith("hadm_")
    assert created["tenant_id"] is None
    ops = {"Authorization": f"Bearer {created['token']}"}
    assert (await client.get("/admin/v1/tenants", headers=ops)).status_code == 200


async def test_tenants_are_listed_in_pages(rt: Runtime, admin: Admin) -> None:
    created = [(await admin.post("/tenants", {"name": f"t{n}"})).json()["id"] for n in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await admin.get("/tenants", params=params)).json()
        seen.extend(t["id"] for t in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created)
    async with unchanged(rt.db):
        for limit in ("0", "501", "ten"):
            problem(await admin.get("/tenants", params={"limit": limit}), 422, "VALIDATION_FAILED")


async def test_suspending_a_tenant_is_audited_as_such(factory: Factory, admin: Admin) -> None:
    tenant = await factory.tenant()
    await admin.patch(f"/tenants/{tenant['id']}", {"status": "disabled"})
    await admin.patch(f"/tenants/{tenant['id']}", {"status": "active"})
    await admin.patch(f"/tenants/{tenant['id']}", {"upstream_secret": "x" * 20})
    actions = [e["action"] for e in (await admin.get("/audit")).json()["items"]]
    assert actions[:3] == ["tenant.updated", "tenant.enabled", "tenant.disabled"]
    latest = (await admin.get("/audit", params={"action": "tenant.updated"})).json()["items"][0]
    assert latest["details"] == {"fields": ["upstream_secret"]}


async def test_admin_tokens_are_listed_without_values_and_revoked_at_once(
    rt: Runtime, client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    tenant = await factory.tenant()
    other = await factory.tenant("Other")
    ops = (await admin.post("/tokens", {"name": "ops"})).json()
    scoped = (await admin.post("/tokens", {"name": "acme", "tenant_id": tenant["id"]})).json()
    foreign = (await admin.post("/tokens", {"name": "other", "tenant_id": other["id"]})).json()

    listed = await admin.get("/tokens")
    assert [t["name"] for t in listed.json()["items"]] == ["bootstrap", "ops", "acme", "other"]
    for value in (ops["token"], scoped["token"], rt.settings.bootstrap_admin_token or "-"):
        assert value not in listed.text
    acme = Admin(client, scoped["token"])
    assert [t["id"] for t in (await acme.get("/tokens")).json()["items"]] == [scoped["id"]]

    async with unchanged(rt.db):
        for token_id in (foreign["id"], ops["id"], "adm_nope"):
            problem(await acme.post(f"/tokens/{token_id}/revoke"), 404, "NOT_FOUND")

    r = await admin.post(f"/tokens/{ops['id']}/revoke")
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None
    problem(
        await client.get("/admin/v1/tenants", headers=bearer(ops["token"])), 401, "UNAUTHENTICATED"
    )
    assert (await admin.post(f"/tokens/{ops['id']}/revoke")).status_code == 200  # idempotent
    revoked = (await admin.get("/audit", params={"action": "admin_token.revoked"})).json()
    assert [e["target_id"] for e in revoked["items"]] == [ops["id"]]
    # A tenant admin may revoke its own tenant's tokens, itself included.
    assert (await acme.post(f"/tokens/{scoped['id']}/revoke")).status_code == 200
    problem(await acme.get("/tokens"), 401, "UNAUTHENTICATED")


async def test_a_revoked_bootstrap_token_stays_revoked_across_restarts(
    hub: Hub, client: httpx.AsyncClient, admin: Admin
) -> None:
    bootstrap = (await admin.get("/tokens")).json()["items"][0]
    ops = await admin.token(None, name="ops")
    await Admin(client, ops).post(f"/tokens/{bootstrap['id']}/revoke")
    await hub.start()  # what every process does at start with HUB_BOOTSTRAP_ADMIN_TOKEN
    problem(await admin.get("/tenants"), 401, "UNAUTHENTICATED")


async def test_processes_starting_together_create_the_bootstrap_token_once(
    rt: Runtime, admin: Admin
) -> None:
    import asyncio

    from sqlalchemy import delete

    from hub.admin.models import AdminToken
    from hub.admin.tokens import ensure_bootstrap_token

    async with rt.db.transaction() as session:
        await session.execute(delete(AdminToken))
    token = rt.settings.bootstrap_admin_token or ""
    await asyncio.gather(*(ensure_bootstrap_token(rt, token) for _ in range(4)))
    listed = (await admin.get("/tokens")).json()["items"]
    assert [t["name"] for t in listed] == ["bootstrap"]
