"""A disabled tenant's own admin tokens act no more: every call they
make is 403 ``TENANT_DISABLED`` — reads, creating integrations, minting tokens —
and changes nothing. Platform tokens keep full use, so they can look and re-enable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.runtime import Runtime
from tests.foundation.conftest import Admin, Factory, problem
from tests.support.snapshots import unchanged

INTEGRATION = {"name": "Zap", "kind": "zapier", "mode": "live", "scopes": ["actions:*"]}


async def _disabled_tenant_and_its_admin(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> tuple[dict[str, Any], Admin]:
    tenant = await factory.tenant()
    tenant_admin = Admin(client, await admin.token(tenant["id"]))
    # While the tenant is active its token works: the refusal below is the status's.
    assert (await tenant_admin.get(f"/tenants/{tenant['id']}")).status_code == 200
    r = await admin.patch(f"/tenants/{tenant['id']}", {"status": "disabled"})
    assert r.status_code == 200, r.text
    return tenant, tenant_admin


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/tenants/{tenant}", None),
        ("GET", "/tenants", None),
        ("GET", "/tenants/{tenant}/integrations", None),
        ("GET", "/tokens", None),
        ("GET", "/audit", None),
        ("PATCH", "/tenants/{tenant}", {"name": "Still here"}),
        ("POST", "/tenants/{tenant}/integrations", INTEGRATION),
        ("POST", "/tokens", {"name": "another", "tenant_id": "{tenant}"}),
        ("GET", "/tenants/ten_does_not_exist", None),  # 403 before any 404
    ],
)
async def test_a_disabled_tenants_token_is_refused_on_every_call(
    rt: Runtime,
    client: httpx.AsyncClient,
    factory: Factory,
    admin: Admin,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    tenant, tenant_admin = await _disabled_tenant_and_its_admin(client, factory, admin)
    url = "/admin/v1" + path.replace("{tenant}", tenant["id"])
    if body is not None and body.get("tenant_id") == "{tenant}":
        body = {**body, "tenant_id": tenant["id"]}
    async with unchanged(rt.db):
        r = await client.request(method, url, json=body, headers=tenant_admin.headers)
    answer = problem(r, 403, "TENANT_DISABLED")
    assert "disabled" in answer["detail"]
    assert "www-authenticate" not in r.headers  # the credential is fine; the tenant is not


async def test_platform_tokens_still_read_and_re_enable(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    tenant, tenant_admin = await _disabled_tenant_and_its_admin(client, factory, admin)
    seen = await admin.get(f"/tenants/{tenant['id']}")
    assert seen.status_code == 200
    assert seen.json()["status"] == "disabled"
    assert (await admin.get(f"/tenants/{tenant['id']}/integrations")).status_code == 200
    assert (await admin.get("/tokens")).status_code == 200
    r = await admin.post(f"/tenants/{tenant['id']}/integrations", INTEGRATION)
    assert r.status_code == 201, r.text

    r = await admin.patch(f"/tenants/{tenant['id']}", {"status": "active"})
    assert r.status_code == 200, r.text
    # Enabled again, the very same token works at once (nothing was cached).
    assert (await tenant_admin.get(f"/tenants/{tenant['id']}")).status_code == 200


async def test_other_tenants_tokens_are_unaffected(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    await _disabled_tenant_and_its_admin(client, factory, admin)
    other = await factory.tenant("Other")
    other_admin = Admin(client, await admin.token(other["id"]))
    assert (await other_admin.get(f"/tenants/{other['id']}")).status_code == 200


async def test_a_revoked_token_of_a_disabled_tenant_is_still_unauthenticated(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    """Revocation is about the credential, so it answers first (401, not 403)."""
    tenant = await factory.tenant()
    created = (await admin.post("/tokens", {"name": "t", "tenant_id": tenant["id"]})).json()
    assert (await admin.post(f"/tokens/{created['id']}/revoke")).status_code == 200
    await admin.patch(f"/tenants/{tenant['id']}", {"status": "disabled"})
    problem(await Admin(client, created["token"]).get("/tokens"), 401, "UNAUTHENTICATED")
