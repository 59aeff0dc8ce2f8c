"""POST /v1/events: per-item results, deduplication forever, batch limits, scopes."""

from __future__ import annotations

import httpx
import msgspec

from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.events.helpers import (
    all_deliveries,
    all_events,
    event,
    publish,
    publisher,
    subscribe,
    subscriber,
)


async def test_batch_with_good_duplicate_and_bad_items(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    first = await publish(client, key, event("crm-1"))
    assert first.status_code == 202, first.text
    assert first.json() == {"accepted": 1, "duplicates": 0, "rejected": []}

    bad_data = event("crm-4")
    bad_data["data"]["contact"] = {"name": 42}
    batch = {
        "events": [
            event("crm-2"),
            event("crm-1"),  # seen before
            {"id": "crm-3", "type": "lead.exploded", "data": {}},
            bad_data,
            {"id": "crm-5", "data": {}},  # no type
            event("crm-2"),  # twice in the same batch
            event("crm-6", "message.received"),
        ]
    }
    r = await publish(client, key, batch)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 2
    rejected = {item["index"]: item for item in body["rejected"]}
    assert set(rejected) == {2, 3, 4}
    assert rejected[2]["code"] == "UNKNOWN_EVENT_TYPE"
    assert rejected[3]["code"] == "VALIDATION_FAILED"
    assert "$.data.contact.name" in rejected[3]["detail"]
    assert rejected[4]["code"] == "VALIDATION_FAILED"

    stored = await all_events(rt)
    assert sorted(e.producer_id for e in stored) == ["crm-1", "crm-2", "crm-6"]
    assert {e.tenant_id for e in stored} == {tenant["id"]}


async def test_replaying_a_batch_is_all_duplicates_and_creates_no_deliveries(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    zap = await subscriber(factory, tenant["id"])
    assert (await subscribe(client, zap["api_key"])).status_code == 201
    batch = {"events": [event(f"crm-{i}") for i in range(5)]}

    first = await publish(client, key, batch)
    assert first.json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    assert len(await all_deliveries(rt)) == 5

    again = await publish(client, key, batch)
    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "duplicates": 5, "rejected": []}
    assert len(await all_deliveries(rt)) == 5
    assert len(await all_events(rt)) == 5


async def test_producer_ids_are_per_tenant(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    a = await publisher(factory, (await factory.tenant("A"))["id"])
    b = await publisher(factory, (await factory.tenant("B"))["id"])
    assert (await publish(client, a, event("same"))).json()["accepted"] == 1
    assert (await publish(client, b, event("same"))).json()["accepted"] == 1
    assert len(await all_events(rt)) == 2


async def test_a_single_event_answers_the_same_shape(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    key = await publisher(factory, (await factory.tenant())["id"])
    r = await publish(client, key, {"id": "x", "type": "nope", "data": {}})
    assert r.status_code == 202
    assert r.json()["rejected"] == [
        {"index": 0, "code": "UNKNOWN_EVENT_TYPE", "detail": r.json()["rejected"][0]["detail"]}
    ]


async def test_occurred_at_defaults_to_receipt_and_is_stored_in_utc(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    key = await publisher(factory, (await factory.tenant())["id"])
    with_time = event("t1")
    with_time["occurred_at"] = "2025-11-26T18:00:00-03:00"
    naive = event("t2")
    naive["occurred_at"] = "2025-11-26T18:00:00"
    r = await publish(client, key, {"events": [with_time, event("t3"), naive]})
    assert r.json()["accepted"] == 2
    assert r.json()["rejected"][0]["index"] == 2  # a timestamp without offset is ambiguous
    stored = {e.producer_id: e for e in await all_events(rt)}
    assert stored["t1"].occurred_at.isoformat() == "2025-11-26T21:00:00+00:00"
    assert stored["t3"].occurred_at == rt.clock.now()


async def test_whole_body_errors(client: httpx.AsyncClient, factory: Factory) -> None:
    key = await publisher(factory, (await factory.tenant())["id"])
    headers = {**bearer(key), "content-type": "application/json"}
    cases = [
        (b"{not json", 400, "MALFORMED_JSON"),
        (b"[1, 2]", 422, "VALIDATION_FAILED"),
        (b'{"events": []}', 422, "VALIDATION_FAILED"),
        (b'{"events": {}}', 422, "VALIDATION_FAILED"),
        (b'{"events": [], "extra": 1}', 422, "VALIDATION_FAILED"),
    ]
    for raw, status, code in cases:
        r = await client.post("/v1/events", content=raw, headers=headers)
        assert r.status_code == status, raw
        assert r.json()["code"] == code
    too_many = {"events": [event(f"e{i}") for i in range(501)]}
    r = await publish(client, key, too_many)
    assert r.status_code == 422
    r = await client.post(
        "/v1/events", content=b"x", headers={**bearer(key), "content-type": "text/plain"}
    )
    assert r.status_code == 415


async def test_body_over_one_mebibyte_is_refused(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    key = await publisher(factory, (await factory.tenant())["id"])
    big = event("big")
    big["data"]["notes"] = "x" * (1024 * 1024)
    r = await publish(client, key, big)
    assert r.status_code == 413
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert await all_events(rt) == []


async def test_publishing_needs_the_scope(client: httpx.AsyncClient, factory: Factory) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    r = await publish(client, zap["api_key"], event("x"))
    assert r.status_code == 403
    assert r.json()["code"] == "FORBIDDEN_SCOPE"
    r = await client.post("/v1/events", json=event("x"))
    assert r.status_code == 401


async def test_stored_data_is_the_validated_struct_not_the_raw_input(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    key = await publisher(factory, (await factory.tenant())["id"])
    item = event("u1")
    item["data"]["not_in_the_catalog"] = "secret"
    assert (await publish(client, key, item)).json()["accepted"] == 1
    (stored,) = await all_events(rt)
    assert stored.data is not None
    assert "not_in_the_catalog" not in stored.data
    assert stored.data["company_name"] == item["data"]["company_name"]
    assert msgspec.json.encode(stored.data)
