"""GET /v1/events/{type}/samples: the delivered shape, exactly (Zapier performList)."""

from __future__ import annotations

import httpx
import msgspec

from hub.clock import FrozenClock
from hub.events.samples import sample_event_id
from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.events.helpers import (
    all_deliveries,
    event,
    publish,
    publisher,
    subscribe,
    subscriber,
)


async def _samples(
    client: httpx.AsyncClient, key: str, event_type: str = "lead.created", **params: int
) -> httpx.Response:
    return await client.get(f"/v1/events/{event_type}/samples", params=params, headers=bearer(key))


async def test_samples_are_byte_for_byte_the_delivered_bodies_newest_first(
    client: httpx.AsyncClient,
    factory: Factory,
    rt: Runtime,
    clock: FrozenClock,
    admin_headers: dict[str, str],
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    zap = await subscriber(factory, tenant["id"])
    await client.patch(  # an override, so "exactly as delivered" includes it
        f"/admin/v1/integrations/{zap['id']}",
        json={"policy_overrides": {"lead.created": {"tags[]": "drop"}}},
        headers=admin_headers,
    )
    assert (await subscribe(client, zap["api_key"])).status_code == 201
    for i in range(4):
        await publish(client, key, event(f"e{i}", company_name=f"Company {i}"))
        clock.advance(1)

    r = await _samples(client, zap["api_key"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    bodies = msgspec.json.decode(r.content)
    assert [b["data"]["company_name"] for b in bodies] == ["Company 3", "Company 2", "Company 1"]
    delivered = {d.event_id: d.body for d in await all_deliveries(rt)}
    for body in bodies:
        assert msgspec.json.encode(body) == delivered[body["id"]]
        assert "tags" not in body["data"]
    assert r.content == b"[" + b",".join(delivered[b["id"]] or b"" for b in bodies) + b"]"

    r = await _samples(client, zap["api_key"], limit=10)
    assert len(r.json()) == 4


async def test_catalog_sample_when_there_are_no_events(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    for mode in ("live", "sandbox"):
        zap = await subscriber(factory, tenant["id"], mode=mode)
        r = await _samples(client, zap["api_key"], "message.failed")
        assert r.status_code == 200
        (body,) = r.json()
        assert body["id"] == sample_event_id("message.failed")
        assert body["type"] == "message.failed"
        assert body["data"]["contact_email"] == "c***@p***.example"
        assert "error_message" not in body["data"]
        assert body.get("sandbox", False) is (mode == "sandbox")


async def test_samples_respect_tenant_and_sandbox_lines(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    other = await factory.tenant("Other")
    await publish(client, await publisher(factory, other["id"]), event("theirs"))
    await publish(client, await publisher(factory, tenant["id"], "sandbox"), event("sandbox"))
    live = await subscriber(factory, tenant["id"])
    sandbox = await subscriber(factory, tenant["id"], mode="sandbox")
    (live_sample,) = (await _samples(client, live["api_key"])).json()
    assert live_sample["id"] == sample_event_id("lead.created")
    (sandbox_sample,) = (await _samples(client, sandbox["api_key"])).json()
    assert sandbox_sample["id"].startswith("evt_")
    assert sandbox_sample["id"] != sample_event_id("lead.created")
    assert sandbox_sample["sandbox"] is True


async def test_samples_need_the_trigger_scope_and_a_known_type(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    zap = await subscriber(factory, tenant["id"], scopes=["triggers:message.sent"])
    assert (await _samples(client, zap["api_key"], "message.sent")).status_code == 200
    r = await _samples(client, zap["api_key"], "lead.created")
    assert r.status_code == 403
    assert r.json()["code"] == "FORBIDDEN_SCOPE"
    everything = await subscriber(factory, tenant["id"])
    r = await _samples(client, everything["api_key"], "lead.exploded")
    assert r.status_code == 404
    assert r.json()["code"] == "NOT_FOUND"
