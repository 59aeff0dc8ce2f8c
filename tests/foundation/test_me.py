from __future__ import annotations

import httpx

from tests.conftest import Factory, bearer


async def test_me_answers_the_integration(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant("Acme")
    integration = await factory.integration(
        tenant["id"], name="My zap", mode="sandbox", scopes=["triggers:*", "actions:create_lead"]
    )
    r = await client.get("/v1/me", headers=bearer(integration["api_key"]))
    assert r.status_code == 200
    body = r.json()
    assert body == {
        "integration_id": integration["id"],
        "name": "My zap",
        "kind": "zapier",
        "mode": "sandbox",
        "scopes": ["actions:create_lead", "triggers:*"],
        "status": "active",
        "tenant_id": tenant["id"],
        "tenant_name": "Acme",
        "key_id": integration["key_id"],
    }


async def test_me_accepts_the_x_api_key_header(client: httpx.AsyncClient, factory: Factory) -> None:
    integration = await factory.integration()
    r = await client.get("/v1/me", headers={"X-API-Key": integration["api_key"]})
    assert r.status_code == 200
    assert r.json()["integration_id"] == integration["id"]
