from __future__ import annotations

import httpx

from tests.conftest import Factory, bearer


async def test_me_answers_the_integration(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant("Acme")
    integration = await factory.integration(tenant["id"], name="My zap", mode="sandbox")
    r = await client.get("/v1/me", headers=bearer(integration["api_key"]))
    assert r.status_code == 200
    body = r.json()
    assert body["integration_id"] == integration["id"]
    assert body["tenant_name"] == "Acme"
    assert body["mode"] == "sandbox"
