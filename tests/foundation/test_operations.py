"""/healthz, /readyz, /metrics and the OpenAPI document."""

from __future__ import annotations

import re

import httpx
import msgspec

from hub.app import build_hub, create_app
from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin, problem


async def test_healthz_answers_while_the_process_lives(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_checks_the_database_and_redis(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    # Capabilities may add their own (non-critical) probes next to these two.
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"


async def test_readyz_is_unavailable_without_redis(rt: Runtime) -> None:
    settings = msgspec.structs.replace(rt.settings, redis_url="redis://127.0.0.1:1/0")
    dead = await build_hub(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, hub=dead))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
            r = await c.get("/readyz")
            body = problem(r, 503, "UNAVAILABLE")
            assert body["checks"]["database"] == "ok"
            assert body["checks"]["redis"] == "unreachable"
            # Liveness does not depend on Redis.
            assert (await c.get("/healthz")).status_code == 200
    finally:
        await dead.close()


async def test_metrics_label_routes_by_template_and_carry_no_secrets(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    integration = await factory.integration()
    key = integration["api_key"]
    await client.get("/v1/me", headers=bearer(key))
    await client.get("/v1/me", headers=bearer(key + "x"))
    await admin.get(f"/integrations/{integration['id']}")
    await admin.get(f"/tenants/{integration['tenant_id']}/integrations")
    await client.get(f"/no/such/{integration['id']}")
    await client.request("BREW", "/v1/me")  # an unbounded method must not become a label

    r = await client.get("/metrics")
    assert r.status_code == 200
    text = r.text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert {
        "/v1/me",
        "/admin/v1/integrations/{integration_id}",
        "/admin/v1/tenants/{tenant_id}/integrations",
        "unmatched",
    } <= routes
    methods = set(re.findall(r'method="([^"]*)"', text))
    assert "BREW" not in methods
    # Prometheus conventions: counters end in _total, no *_created series (doubles).
    families = dict(re.findall(r"^# TYPE (hub_\w+) (\w+)$", text, flags=re.MULTILINE))
    assert families, text[:500]
    assert all(n.endswith("_total") for n, kind in families.items() if kind == "counter")
    assert not re.search(r"^hub_\w*_created[{ ]", text, flags=re.MULTILINE)
    assert methods <= {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "OTHER"}
    for secret_or_id in (
        key,
        key.rsplit("_", 1)[1],
        integration["id"],
        integration["tenant_id"],
        admin.headers["Authorization"].split()[1],
    ):
        assert secret_or_id not in text
    assert 'hub_http_requests_total{method="GET",route="/v1/me",status="200"}' in text
    assert 'hub_auth_failures_total{code="UNAUTHENTICATED",kind="integration"}' in text


async def test_the_openapi_document_describes_the_admin_api(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path, method in [
        ("/v1/me", "get"),
        ("/admin/v1/tenants", "post"),
        ("/admin/v1/tenants/{tenant_id}", "patch"),
        ("/admin/v1/tenants/{tenant_id}/integrations", "post"),
        ("/admin/v1/integrations/{integration_id}", "patch"),
        ("/admin/v1/integrations/{integration_id}/keys/rotate", "post"),
        ("/admin/v1/integrations/{integration_id}/keys/revoke", "post"),
        ("/admin/v1/tokens", "post"),
        ("/admin/v1/audit", "get"),
    ]:
        assert method in paths[path], (path, method)
    create = paths["/admin/v1/tenants/{tenant_id}/integrations"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.endswith("/IntegrationCreate")
    assert "401" in paths["/v1/me"]["get"]["responses"]
    assert "Problem" in doc["components"]["schemas"]
