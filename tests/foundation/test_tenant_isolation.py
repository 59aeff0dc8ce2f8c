"""A tenant's admin token sees and changes only its tenant; others' objects are 404."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.runtime import Runtime
from tests.conftest import Factory
from tests.foundation.conftest import Admin, problem
from tests.support.snapshots import unchanged


class World:
    def __init__(self, mine: dict[str, Any], theirs: dict[str, Any], tenant_admin: Admin) -> None:
        self.mine = mine
        self.theirs = theirs
        self.tenant_admin = tenant_admin


@pytest.fixture
async def world(client: httpx.AsyncClient, factory: Factory, admin: Admin) -> World:
    mine = await factory.integration((await factory.tenant("Mine"))["id"], name="my zap")
    theirs = await factory.integration((await factory.tenant("Theirs"))["id"], name="their zap")
    token = await admin.token(mine["tenant_id"], name="mine-admin")
    return World(mine, theirs, Admin(client, token))


async def test_a_tenant_token_cannot_reach_another_tenant(rt: Runtime, world: World) -> None:
    a, theirs = world.tenant_admin, world.theirs
    tid, iid = theirs["tenant_id"], theirs["id"]
    async with unchanged(rt.db):
        attempts = [
            await a.get(f"/tenants/{tid}"),
            await a.patch(f"/tenants/{tid}", {"name": "pwned"}),
            await a.patch(f"/tenants/{tid}", {"status": "disabled"}),
            await a.get(f"/tenants/{tid}/integrations"),
            await a.post(f"/tenants/{tid}/integrations", {"name": "x", "kind": "zapier"}),
            await a.get(f"/integrations/{iid}"),
            await a.patch(f"/integrations/{iid}", {"name": "pwned"}),
            await a.patch(f"/integrations/{iid}", {"status": "disabled"}),
            await a.post(f"/integrations/{iid}/keys/rotate", {"grace_seconds": 0}),
            await a.post(f"/integrations/{iid}/keys/revoke"),
            await a.post(f"/integrations/{iid}/keys/revoke", {"key_id": theirs["key_id"]}),
            await a.post("/tokens", {"name": "x", "tenant_id": tid}),
            await a.get("/audit", params={"tenant_id": tid}),
        ]
        for r in attempts:
            problem(r, 404, "NOT_FOUND")


async def test_not_found_reveals_nothing_about_existence(world: World) -> None:
    """Another tenant's integration and a made-up id answer the very same problem."""
    a = world.tenant_admin
    foreign = (await a.get(f"/integrations/{world.theirs['id']}")).json()
    made_up = (await a.get("/integrations/int_00000000000000000000000000")).json()
    for body in (foreign, made_up):
        body.pop("correlation_id")
    assert foreign == made_up
    foreign_tenant = (await a.get(f"/tenants/{world.theirs['tenant_id']}")).json()
    made_up_tenant = (await a.get("/tenants/ten_00000000000000000000000000")).json()
    for body in (foreign_tenant, made_up_tenant):
        body.pop("correlation_id")
    assert foreign_tenant == made_up_tenant


async def test_lists_show_only_the_tokens_tenant(world: World, admin: Admin) -> None:
    a = world.tenant_admin
    tenants = (await a.get("/tenants")).json()["items"]
    assert [t["id"] for t in tenants] == [world.mine["tenant_id"]]
    mine = (await a.get(f"/tenants/{world.mine['tenant_id']}/integrations")).json()["items"]
    assert [i["id"] for i in mine] == [world.mine["id"]]
    audit = (await a.get("/audit")).json()["items"]
    assert audit
    assert {e["tenant_id"] for e in audit} == {world.mine["tenant_id"]}
    # Filtering by the other tenant's integration finds nothing rather than leaking.
    foreign = await a.get("/audit", params={"integration_id": world.theirs["id"]})
    assert foreign.json()["items"] == []
    # The platform token sees everything.
    everyone = (await admin.get("/tenants")).json()["items"]
    assert {t["id"] for t in everyone} == {world.mine["tenant_id"], world.theirs["tenant_id"]}
    assert (await admin.get(f"/integrations/{world.theirs['id']}")).status_code == 200


async def test_a_tenant_token_manages_its_own_tenant(world: World) -> None:
    a, tid = world.tenant_admin, world.mine["tenant_id"]
    assert (await a.get(f"/tenants/{tid}")).status_code == 200
    assert (await a.patch(f"/tenants/{tid}", {"name": "Mine, renamed"})).status_code == 200
    created = await a.post(f"/tenants/{tid}/integrations", {"name": "second", "kind": "make"})
    assert created.status_code == 201
    iid = created.json()["id"]
    assert (await a.patch(f"/integrations/{iid}", {"scopes": ["triggers:*"]})).status_code == 200
    assert (await a.post(f"/integrations/{iid}/keys/rotate")).status_code == 201
    assert (await a.post(f"/integrations/{iid}/keys/revoke")).status_code == 200
    token = await a.post("/tokens", {"name": "colleague", "tenant_id": tid})
    assert token.status_code == 201
    assert token.json()["tenant_id"] == tid


async def test_a_tenant_token_cannot_act_as_a_platform_admin(rt: Runtime, world: World) -> None:
    a, tid = world.tenant_admin, world.mine["tenant_id"]
    async with unchanged(rt.db):
        problem(await a.post("/tenants", {"name": "new"}), 403, "FORBIDDEN_SCOPE")
        problem(await a.post("/tokens", {"name": "root"}), 403, "FORBIDDEN_SCOPE")
        problem(
            await a.post("/tokens", {"name": "root", "tenant_id": None}), 403, "FORBIDDEN_SCOPE"
        )
        # A tenant may not lift its own suspension.
        problem(await a.patch(f"/tenants/{tid}", {"status": "active"}), 403, "FORBIDDEN_SCOPE")


async def test_a_token_created_for_a_tenant_is_scoped_to_it(
    client: httpx.AsyncClient, world: World, admin: Admin
) -> None:
    token = await admin.token(world.theirs["tenant_id"], name="theirs-admin")
    theirs = Admin(client, token)
    assert (await theirs.get(f"/integrations/{world.theirs['id']}")).status_code == 200
    problem(await theirs.get(f"/integrations/{world.mine['id']}"), 404, "NOT_FOUND")


async def test_tokens_for_unknown_tenants_are_refused(rt: Runtime, admin: Admin) -> None:
    async with unchanged(rt.db):
        r = await admin.post("/tokens", {"name": "x", "tenant_id": "ten_nope"})
        problem(r, 404, "NOT_FOUND")
