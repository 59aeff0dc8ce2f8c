"""POST /admin/v1/policies/{type}/preview and GET /admin/v1/policies/{type}."""

from __future__ import annotations

import copy

import httpx

from hub.events.catalog import EVENT_TYPES
from tests.conftest import Factory, bearer

SAMPLE = EVENT_TYPES["lead.created"].sample


async def test_preview_sanitizes_as_a_delivery_to_that_integration_would(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    zap = await factory.integration()
    r = await client.post(
        "/admin/v1/policies/lead.created/preview",
        json={"integration_id": zap["id"], "data": SAMPLE},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["policy_version"] == "lead.created@1"
    assert body["integration_id"] == zap["id"]
    assert body["data"]["contact"]["emails"][0]["address"] == "j***@p***.example"
    assert "notes" not in body["data"]

    await client.patch(
        f"/admin/v1/integrations/{zap['id']}",
        json={"policy_overrides": {"lead.created": {"contact": "drop"}}},
        headers=admin_headers,
    )
    r = await client.post(
        "/admin/v1/policies/lead.created/preview",
        json={"integration_id": zap["id"], "data": SAMPLE},
        headers=admin_headers,
    )
    assert "contact" not in r.json()["data"]
    assert r.json()["policy_version"].startswith("lead.created@1+o.")

    policy = await client.get(
        "/admin/v1/policies/lead.created",
        params={"integration_id": zap["id"]},
        headers=admin_headers,
    )
    assert policy.status_code == 200
    assert policy.json()["fields"]["contact.name"] == "drop"
    base = await client.get("/admin/v1/policies/lead.created", headers=admin_headers)
    assert base.json()["fields"]["contact.name"] == "keep"


async def test_preview_refuses_data_that_does_not_fit(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    zap = await factory.integration()
    data = copy.deepcopy(SAMPLE)
    data["contact"]["name"] = 7
    del data["status"]
    r = await client.post(
        "/admin/v1/policies/lead.created/preview",
        json={"integration_id": zap["id"], "data": data},
        headers=admin_headers,
    )
    assert r.status_code == 422
    assert {e["path"] for e in r.json()["errors"]} >= {"$.data.status"}
    r = await client.post(
        "/admin/v1/policies/lead.exploded/preview",
        json={"integration_id": zap["id"], "data": {}},
        headers=admin_headers,
    )
    assert r.status_code == 404


async def test_preview_is_tenant_scoped(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    mine = await factory.tenant("Mine")
    theirs = await factory.integration((await factory.tenant("Theirs"))["id"])
    token = await client.post(
        "/admin/v1/tokens", json={"name": "mine", "tenant_id": mine["id"]}, headers=admin_headers
    )
    r = await client.post(
        "/admin/v1/policies/lead.created/preview",
        json={"integration_id": theirs["id"], "data": SAMPLE},
        headers=bearer(token.json()["token"]),
    )
    assert r.status_code == 404
    r = await client.post(
        "/admin/v1/policies/lead.created/preview",
        json={"integration_id": theirs["id"], "data": SAMPLE},
        headers=bearer(theirs["api_key"]),  # an integration key is no admin token
    )
    assert r.status_code == 401
