"""POST /v1/events with hostile items: each is rejected on its own, the rest is stored.

NUL, nesting too deep, timestamps outside the range and the hub's reserved event
types are per-item rejections with the path (docs/events.md); the same answer on
Postgres and SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from hub.runtime import Runtime
from hub.web.input_rules import MAX_DEPTH
from tests.conftest import Factory, bearer
from tests.events.helpers import all_events, event, publish, publisher
from tests.support.snapshots import unchanged

JSON = {"Content-Type": "application/json"}


def nested(levels: int) -> bytes:
    return b"[" * levels + b"1" + b"]" * levels


async def post_raw(client: httpx.AsyncClient, key: str, raw: bytes) -> httpx.Response:
    return await client.post("/v1/events", content=raw, headers={**bearer(key), **JSON})


def batch(*items: bytes) -> bytes:
    return b'{"events": [' + b", ".join(items) + b"]}"


def encoded(item: dict[str, Any]) -> bytes:
    return msgspec.json.encode(item)


@pytest.fixture
async def key(factory: Factory) -> str:
    tenant = await factory.tenant()
    return await publisher(factory, tenant["id"])


def rejected_at(body: dict[str, Any]) -> dict[int, str]:
    assert all(r["code"] == "VALIDATION_FAILED" for r in body["rejected"]), body
    return {r["index"]: r["detail"] for r in body["rejected"]}


async def test_nul_anywhere_in_an_item_rejects_that_item_only(
    client: httpx.AsyncClient, rt: Runtime, key: str
) -> None:
    good = encoded(event("crm-good"))
    nul_data = encoded(event("crm-nul-data")).replace(b'"notes":"', b'"notes":"a\\u0000', 1)
    nul_key = encoded(event("crm-nul-key")).replace(b'"notes":', b'"no\\u0000tes":', 1)
    r = await post_raw(
        client,
        key,
        batch(
            good, b'{"id": "crm-\\u0000", "type": "lead.created", "data": {}}', nul_data, nul_key
        ),
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1
    details = rejected_at(r.json())
    assert set(details) == {1, 2, 3}
    assert details[1].endswith("- at `$.id`")
    assert details[2].endswith("- at `$.data.notes`")
    assert details[3].endswith("- at `$.data.no\\u0000tes`")
    assert all("NUL" in d for d in details.values())
    assert [e.producer_id for e in await all_events(rt)] == ["crm-good"]


async def test_nul_in_a_single_event(client: httpx.AsyncClient, rt: Runtime, key: str) -> None:
    raw = encoded(event("crm-1")).replace(b'"crm-1"', b'"crm-\\u00001"')
    async with unchanged(rt.db):
        r = await post_raw(client, key, raw)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 0
    assert rejected_at(r.json())[0].endswith("- at `$.id`")


async def test_an_item_too_deep_is_rejected_on_its_own(
    client: httpx.AsyncClient, rt: Runtime, key: str
) -> None:
    at_limit = encoded(event("crm-limit")).replace(
        b'"notes":"', b'"ignored":' + nested(MAX_DEPTH - 2) + b',"notes":"', 1
    )
    too_deep = encoded(event("crm-deep")).replace(
        b'"notes":"', b'"ignored":' + nested(MAX_DEPTH - 1) + b',"notes":"', 1
    )
    r = await post_raw(client, key, batch(encoded(event("crm-good")), too_deep, at_limit))
    assert r.status_code == 202, r.text
    details = {d["index"]: d for d in r.json()["rejected"]}
    assert details[1]["code"] == "VALIDATION_FAILED"
    assert details[1]["detail"] == f"nested deeper than {MAX_DEPTH} levels - at `$`"
    assert 2 not in details  # 64 levels counted from the item is fine (the field is ignored)
    assert sorted(e.producer_id for e in await all_events(rt)) == ["crm-good", "crm-limit"]


@pytest.mark.parametrize("levels", [2000, 100_000])
async def test_a_body_too_deep_to_split_is_refused_whole(
    client: httpx.AsyncClient, rt: Runtime, key: str, levels: int
) -> None:
    raw = batch(
        encoded(event("crm-good")),
        b'{"id": "x", "type": "lead.created", "data": ' + nested(levels) + b"}",
    )
    async with unchanged(rt.db):
        r = await post_raw(client, key, raw)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "VALIDATION_FAILED"
    assert r.json()["errors"][0]["path"] == "$"


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("occurred_at", "0001-01-01T00:00:00+01:00"),
        ("occurred_at", "9999-12-31T23:59:59-01:00"),
        ("data.created_at", "0001-01-01T23:59:59Z"),
        ("data.updated_at", "9999-12-31T00:00:00Z"),
    ],
)
async def test_a_timestamp_outside_the_range_rejects_its_item(
    client: httpx.AsyncClient, rt: Runtime, key: str, field: str, moment: str
) -> None:
    bad = event("crm-edge")
    if field == "occurred_at":
        bad["occurred_at"] = moment
    else:
        bad["data"][field.removeprefix("data.")] = moment
    r = await publish(client, key, {"events": [event("crm-good"), bad]})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1
    detail = rejected_at(r.json())[1]
    assert detail.startswith("timestamp outside 0001-01-02T00:00:00Z .. 9999-12-30T23:59:59Z")
    assert detail.endswith(f"- at `$.{field}`")
    assert [e.producer_id for e in await all_events(rt)] == ["crm-good"]


async def test_timestamps_at_the_edges_of_the_range_are_stored_as_given(
    client: httpx.AsyncClient, rt: Runtime, key: str
) -> None:
    earliest = event("crm-earliest", created_at="0001-01-02T00:00:00Z")
    earliest["occurred_at"] = "0001-01-02T01:00:00+01:00"
    latest = event("crm-latest", updated_at="9999-12-30T23:59:59Z")
    latest["occurred_at"] = "9999-12-30T22:59:59-01:00"
    r = await publish(client, key, {"events": [earliest, latest]})
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    stored = {e.producer_id: e.occurred_at for e in await all_events(rt)}
    assert stored == {
        "crm-earliest": datetime(1, 1, 2, tzinfo=UTC),
        "crm-latest": datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC),
    }


async def test_the_hubs_own_event_types_are_reserved(
    client: httpx.AsyncClient, rt: Runtime, key: str
) -> None:
    forged = event("crm-forged", "subscription.disabled")
    r = await publish(client, key, {"events": [event("crm-good"), forged]})
    assert r.status_code == 202, r.text
    detail = rejected_at(r.json())[1]
    assert "reserved" in detail
    assert detail.endswith("- at `$.type`")
    assert [e.type for e in await all_events(rt)] == ["lead.created"]
