"""A connector written outside ``hub/`` plugs in by registration only, end to end over
HTTP: configured per tenant through the admin API (secrets write-only, encrypted),
carrying out an action for that tenant, receiving its provider's signed webhooks as
catalog events stored once, and gone again when the tenant removes it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import msgspec
from sqlalchemy import select

from hub.app import Hub
from hub.audit.models import AuditEntry
from hub.connectors.models import TenantConnector
from hub.events.models import Event
from tests.conftest import BOOTSTRAP_TOKEN, bearer
from tests.connectors.fake_channel import FakeChannel, FakeProvider, sign

ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
TOKEN = "tok-live-0123456789"
SIGNING = "sig-secret-abcdef"


async def _tenant_and_integration(http: httpx.AsyncClient) -> tuple[str, str]:
    r = await http.post("/admin/v1/tenants", json={"name": "Padaria"}, headers=ADMIN)
    assert r.status_code == 201, r.text
    tenant_id = r.json()["id"]
    r = await http.post(
        f"/admin/v1/tenants/{tenant_id}/integrations",
        json={
            "name": "Zap",
            "kind": "zapier",
            "mode": "live",
            "scopes": ["actions:*", "triggers:*"],
        },
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    return tenant_id, r.json()["api_key"]


async def _configure(
    http: httpx.AsyncClient, tenant_id: str, provider: FakeProvider, **extra: Any
) -> httpx.Response:
    config = {"base_url": provider.url, "api_token": TOKEN, "signing_secret": SIGNING, **extra}
    return await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/fake_channel",
        json={"config": config},
        headers=ADMIN,
    )


def _webhook(*messages: dict[str, Any]) -> bytes:
    return json.dumps({"messages": list(messages)}).encode()


MESSAGE = {
    "id": "wamid.in.1",
    "from": "+5584999990101",
    "text": "Olá! Quero o pedido de Natal.",
    "timestamp": 1_764_190_800,
    "lead_id": "lead_01jd8v4m7q2k9x3n5p8r1s6t0w",
}


async def _inbound_events(hub: Hub) -> list[Event]:
    async with hub.rt.db.session() as session:
        return list(await session.scalars(select(Event).where(Event.type == "message.received")))


async def test_a_registered_connector_works_end_to_end(
    http: httpx.AsyncClient, hub: Hub, provider: FakeProvider, channel: FakeChannel
) -> None:
    tenant_id, api_key = await _tenant_and_integration(http)

    # Listed among the connectors this hub runs, with its schema and secret fields.
    types = (await http.get("/admin/v1/connectors", headers=ADMIN)).json()["items"]
    assert [t["name"] for t in types] == ["fake_channel"]
    assert types[0]["secret_fields"] == ["api_token", "signing_secret"]
    assert types[0]["actions"] == ["send_whatsapp_message"]

    # Configured: 201, secrets named but never shown.
    r = await _configure(http, tenant_id, provider)
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["config"] == {"base_url": provider.url, "sender": "+5585000000000"}
    assert view["secrets_set"] == ["api_token", "signing_secret"]
    assert view["inbound_path"] == f"/v1/inbound/fake_channel/{view['id']}"
    shown = (
        await http.get(f"/admin/v1/tenants/{tenant_id}/connectors/fake_channel", headers=ADMIN)
    ).text
    assert TOKEN not in shown
    assert SIGNING not in shown

    # The action is carried out by the tenant's connector, with its configuration.
    r = await http.post(
        "/v1/actions/send_whatsapp_message",
        json={"to": "+5584999990101", "text": "Bom dia!"},
        headers={**bearer(api_key), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    assert r.json()["outputs"] == {
        "message_id": "wamid.1",
        "channel": "whatsapp",
        "status": "queued",
        "send_after": None,
        "rfc822_message_id": None,
    }
    assert provider.sent == [{"from": "+5585000000000", "to": "+5584999990101", "text": "Bom dia!"}]
    assert provider.tokens == [f"Bearer {TOKEN}"]
    execution = await http.get(
        f"/v1/executions/{r.json()['execution_id']}", headers=bearer(api_key)
    )
    assert execution.status_code == 200, execution.text
    assert execution.json()["handler"] == "fake_channel"

    # The provider's webhooks: a verification GET, then a signed delivery, stored once
    # however often the provider retries it.
    path = view["inbound_path"]
    r = await http.get(path, params={"challenge": "1158201444"})
    assert (r.status_code, r.text) == (200, "1158201444")
    body = _webhook(MESSAGE)
    for _ in range(2):
        r = await http.post(path, content=body, headers={"x-fake-signature": sign(SIGNING, body)})
        assert (r.status_code, r.text) == (200, "ok")
    events = await _inbound_events(hub)
    assert len(events) == 1
    assert events[0].tenant_id == tenant_id
    assert events[0].producer_id == "fake_channel:wamid.in.1"
    assert events[0].data["body"] == MESSAGE["text"]
    assert events[0].sandbox is False

    # Visible to the tenant's triggers like any other event.
    samples = await http.get("/v1/events/message.received/samples", headers=bearer(api_key))
    assert samples.status_code == 200, samples.text
    assert [s["data"]["message_id"] for s in samples.json()] == ["wamid.in.1"]

    # Removed: the URL answers 404, the action has nothing to carry it out.
    r = await http.delete(f"/admin/v1/tenants/{tenant_id}/connectors/fake_channel", headers=ADMIN)
    assert r.status_code == 204
    r = await http.post(path, content=body, headers={"x-fake-signature": sign(SIGNING, body)})
    assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND")
    r = await http.post(
        "/v1/actions/send_whatsapp_message",
        json={"to": "+5584999990101", "text": "Bom dia!"},
        headers={**bearer(api_key), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert (r.status_code, r.json()["code"]) == (422, "NO_HANDLER")
    assert len(provider.sent) == 1


async def test_a_bad_signature_is_refused_and_stores_nothing(
    http: httpx.AsyncClient, hub: Hub, provider: FakeProvider
) -> None:
    tenant_id, _ = await _tenant_and_integration(http)
    path = (await _configure(http, tenant_id, provider)).json()["inbound_path"]
    body = _webhook(MESSAGE)
    for signature in ("", sign("another-secret", body), sign(SIGNING, body + b" ")):
        r = await http.post(path, content=body, headers={"x-fake-signature": signature})
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    assert await _inbound_events(hub) == []
    # Unknown ids and names look the same as a disabled connector: 404, nothing more.
    for bad in (path + "x", path.replace("fake_channel", "nope"), "/v1/inbound/fake_channel/con_0"):
        r = await http.post(bad, content=body, headers={"x-fake-signature": sign(SIGNING, body)})
        assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND")
    r = await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/fake_channel",
        json={"config": {"base_url": provider.url}, "enabled": False},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    r = await http.post(path, content=body, headers={"x-fake-signature": sign(SIGNING, body)})
    assert r.status_code == 404
    assert await _inbound_events(hub) == []


async def test_events_the_catalog_refuses_are_dropped_but_the_rest_is_stored(
    http: httpx.AsyncClient, hub: Hub, provider: FakeProvider
) -> None:
    tenant_id, _ = await _tenant_and_integration(http)
    path = (await _configure(http, tenant_id, provider)).json()["inbound_path"]
    bad = {**MESSAGE, "id": "wamid.in.bad", "from": "x" * 100}  # contact_phone too long
    body = _webhook(bad, {**MESSAGE, "id": "wamid.in.2"})
    r = await http.post(path, content=body, headers={"x-fake-signature": sign(SIGNING, body)})
    assert r.status_code == 200
    assert [e.producer_id for e in await _inbound_events(hub)] == ["fake_channel:wamid.in.2"]


async def test_secrets_are_encrypted_write_only_and_kept_when_left_out(
    http: httpx.AsyncClient, hub: Hub, provider: FakeProvider
) -> None:
    tenant_id, _ = await _tenant_and_integration(http)
    assert (await _configure(http, tenant_id, provider)).status_code == 201
    # Sent back without its secrets (as read), with one field changed: the secrets stay.
    r = await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/fake_channel",
        json={"config": {"base_url": provider.url, "sender": "+5585111111111"}},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    assert r.json()["secrets_set"] == ["api_token", "signing_secret"]
    async with hub.rt.db.session() as session:
        row = (await session.scalars(select(TenantConnector))).one()
        audit = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.target_type == "connector"))
        )
    assert row.secrets_encrypted is not None
    assert TOKEN not in row.secrets_encrypted
    assert TOKEN not in json.dumps(row.config)
    assert msgspec.json.decode(hub.rt.vault.decrypt(row.secrets_encrypted)) == {
        "api_token": TOKEN,
        "signing_secret": SIGNING,
    }
    assert [a.action for a in audit] == ["connector.created", "connector.updated"]
    assert audit[1].details == {"connector": "fake_channel", "fields": ["sender"]}
    assert TOKEN not in json.dumps([a.details for a in audit])


async def test_bad_configurations_change_nothing(
    http: httpx.AsyncClient, hub: Hub, provider: FakeProvider
) -> None:
    tenant_id, _ = await _tenant_and_integration(http)
    url = f"/admin/v1/tenants/{tenant_id}/connectors/fake_channel"
    r = await http.put(url, json={"config": {"api_token": TOKEN}}, headers=ADMIN)
    assert r.status_code == 422
    paths = sorted(e["path"] for e in r.json()["errors"])
    assert paths == ["$.config.base_url", "$.config.signing_secret"]
    r = await http.put(url, json={"config": {"base_url": "ftp://x"}, "extra": 1}, headers=ADMIN)
    assert r.status_code == 422
    r = await http.put(
        f"/admin/v1/tenants/{tenant_id}/connectors/nope", json={"config": {}}, headers=ADMIN
    )
    assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND")
    r = await http.put(
        "/admin/v1/tenants/ten_missing/connectors/fake_channel", json={"config": {}}, headers=ADMIN
    )
    assert r.status_code == 404
    r = await http.get(url, headers=ADMIN)
    assert r.status_code == 404
    async with hub.rt.db.session() as session:
        assert list(await session.scalars(select(TenantConnector))) == []


async def test_another_tenants_admin_sees_nothing(
    http: httpx.AsyncClient, hub: Hub, provider: FakeProvider
) -> None:
    tenant_id, _ = await _tenant_and_integration(http)
    other_id, _ = await _tenant_and_integration(http)
    assert (await _configure(http, tenant_id, provider)).status_code == 201
    r = await http.post(
        "/admin/v1/tokens", json={"name": "other", "tenant_id": other_id}, headers=ADMIN
    )
    other = {"Authorization": f"Bearer {r.json()['token']}"}
    url = f"/admin/v1/tenants/{tenant_id}/connectors"
    assert (await http.get(url, headers=other)).status_code == 404
    assert (await http.get(url + "/fake_channel", headers=other)).status_code == 404
    assert (await http.delete(url + "/fake_channel", headers=other)).status_code == 404
    r = await _configure(http, tenant_id, provider)
    assert r.status_code == 200  # still there, unchanged by the other tenant's admin
    own = await http.get(f"/admin/v1/tenants/{other_id}/connectors", headers=other)
    assert own.status_code == 200
    assert own.json()["items"] == []


async def test_the_hub_closes_its_connectors(settings: Any, clock: Any) -> None:
    from hub.app import build_hub

    channel = FakeChannel()
    built = await build_hub(settings, clock=clock, connectors=[channel])
    await built.close()
    assert channel.closed


def test_every_connectors_route_is_documented() -> None:
    import re
    from pathlib import Path

    from hub.connectors import routes

    doc = (Path(__file__).resolve().parents[2] / "docs/connectors.md").read_text()
    names = {
        "tenant_id": "id",
        "connector_id": "id",
        "connector": "name",
        "name": "name",
        "address": "address",
    }
    for prefix, handlers in (
        ("/admin/v1", routes.ADMIN_ROUTES),
        ("/v1", routes.INTEGRATION_ROUTES),
    ):
        for handler in handlers:
            for path in handler.paths:
                documented = prefix + re.sub(
                    r"\{(\w+)(:\w+)?\}", lambda m: "{" + names[m.group(1)] + "}", path
                )
                for method in handler.http_methods:
                    assert f"`{method} {documented}`" in doc, (method, documented)
