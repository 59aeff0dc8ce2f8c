"""Admin API: deliveries with filters, one with its attempts, replay of the DLQ, audit."""

from __future__ import annotations

import httpx
from standardwebhooks import Webhook

from hub.admin.auth import CLI_ADMIN
from hub.admin.tokens import create_token
from hub.clock import FrozenClock
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.engine import DeliveryEngine
from hub.runtime import Runtime
from tests.conftest import bearer
from tests.delivery.support import (
    Sub,
    attempts,
    delivery,
    make_deliveries,
    make_subscription,
    make_tenant,
    scripted,
    statuses,
)


async def kill(engine: DeliveryEngine, clock: FrozenClock, sub: Sub, n: int) -> list[str]:
    """``n`` deliveries that a 400-answering receiver sent to the DLQ."""
    ids = await make_deliveries(None or engine.rt, sub, n)
    await enqueue_deliveries(engine.rt, ids)
    await engine.run_until_idle()
    clock.advance(10)
    await engine.run_until_idle()
    assert await statuses(engine.rt, ids) == {"dead": n}
    return ids


async def test_list_filters_and_detail_with_attempts(
    rt: Runtime,
    clock: FrozenClock,
    engine: DeliveryEngine,
    receivers,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    refusing = await receivers(scripted([400]))
    fine = await receivers()
    tenant = await make_tenant(rt)
    bad = await make_subscription(rt, tenant, refusing.url)
    good = await make_subscription(rt, tenant, fine.url, event_type="lead.updated")
    dead = await kill(engine, clock, bad, 3)
    ok = await make_deliveries(rt, good, 2)
    await enqueue_deliveries(rt, ok)
    await engine.run_until_idle()

    async def listed(**params: str) -> list[str]:
        r = await client.get("/admin/v1/deliveries", params=params, headers=admin_headers)
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert sorted(await listed(status="dead")) == sorted(dead)
    assert sorted(await listed(status="delivered")) == sorted(ok)
    assert sorted(await listed(subscription_id=good.id)) == sorted(ok)
    assert sorted(await listed(error_class="http_400")) == sorted(dead)
    assert sorted(
        await listed(tenant_id=tenant, integration_id=tenant.replace("ten_", "int_"))
    ) == sorted(dead + ok)
    assert await listed(tenant_id="ten_other") == []
    assert await listed(until=(clock.now().replace(year=2000)).isoformat()) == []
    elsewhere = await make_subscription(rt, tenant, "https://Hooks.Example.test:8443/x")
    waiting = await make_deliveries(rt, elsewhere, 2)  # never enqueued: stay pending
    assert sorted(await listed(target_host="127.0.0.1")) == sorted(dead + ok)
    assert sorted(await listed(target_host="HOOKS.example.test")) == sorted(waiting)
    assert await listed(target_host="example.test") == []  # a host, not a suffix
    for hostile in ("hooks%", "a_b", "x/y", "h:1", "-x"):
        r = await client.get(
            "/admin/v1/deliveries", params={"target_host": hostile}, headers=admin_headers
        )
        assert r.status_code in (400, 422), (hostile, r.text)
    first_page = await listed(limit="2")
    assert len(first_page) == 2
    r = await client.get("/admin/v1/deliveries", params={"status": "nope"}, headers=admin_headers)
    assert r.status_code in (400, 422)

    r = await client.get(f"/admin/v1/deliveries/{dead[0]}", headers=admin_headers)
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["status"] == "dead"
    assert detail["attempt_count"] == 2
    assert [a["status_code"] for a in detail["attempts"]] == [400, 400]
    assert detail["attempts"][0]["response_excerpt"] == "status 400"
    assert "body" not in detail
    missing = await client.get("/admin/v1/deliveries/dlv_nope", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND"


async def test_tenant_admins_see_only_their_tenant(
    rt: Runtime,
    clock: FrozenClock,
    engine: DeliveryEngine,
    receivers,
    client: httpx.AsyncClient,
) -> None:
    receiver = await receivers(scripted([400]))
    mine = await make_subscription(rt, await make_tenant(rt), receiver.url)
    theirs = await make_subscription(rt, await make_tenant(rt), receiver.url)
    my_dead = await kill(engine, clock, mine, 1)
    their_dead = await kill(engine, clock, theirs, 1)
    token, _ = await create_token(rt, CLI_ADMIN, name="t", tenant_id=mine.tenant_id)
    headers = bearer(token)

    r = await client.get("/admin/v1/deliveries", headers=headers)
    assert [i["id"] for i in r.json()["items"]] == my_dead
    r = await client.get(
        "/admin/v1/deliveries", params={"tenant_id": theirs.tenant_id}, headers=headers
    )
    assert r.status_code == 404
    r = await client.get(f"/admin/v1/deliveries/{their_dead[0]}", headers=headers)
    assert r.status_code == 404
    r = await client.get(f"/admin/v1/subscriptions/{theirs.id}/health", headers=headers)
    assert r.status_code == 404
    r = await client.post("/admin/v1/deliveries/replay", json={"ids": their_dead}, headers=headers)
    assert r.json() == {
        "queued": 0,
        "refused_count": 1,
        "refused": [{"id": their_dead[0], "reason": "not_found"}],
    }
    r = await client.post("/admin/v1/deliveries/replay", json={"filter": {}}, headers=headers)
    assert r.json()["queued"] == 1
    assert await statuses(rt, their_dead) == {"dead": 1}


async def test_replay_by_filter_reaches_the_receiver_with_the_original_webhook_id(
    rt: Runtime,
    clock: FrozenClock,
    engine: DeliveryEngine,
    receivers,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    receiver = await receivers(scripted([400, 400, 200]))
    tenant = await make_tenant(rt)
    sub = await make_subscription(rt, tenant, receiver.url)
    dead = await kill(engine, clock, sub, 3)
    gone_sub = await make_subscription(rt, tenant, receiver.url, event_type="lead.updated")
    gone = await kill(engine, clock, gone_sub, 1)
    async with rt.db.transaction() as session:
        from sqlalchemy import update

        from hub.hooks.models import Subscription

        await session.execute(
            update(Subscription).where(Subscription.id == gone_sub.id).values(status="deleted")
        )

    r = await client.post(
        "/admin/v1/deliveries/replay",
        json={"filter": {"tenant_id": tenant, "error_class": "http_400"}},
        headers=admin_headers,
    )

    assert r.status_code == 200, r.text
    assert r.json() == {
        "queued": 3,
        "refused_count": 1,
        "refused": [{"id": gone[0], "reason": "subscription_deleted"}],
    }
    assert await statuses(rt, dead) == {"pending": 3}
    await engine.run_until_idle()
    assert await statuses(rt, dead) == {"delivered": 3}
    for delivery_id in dead:
        assert receiver.count(delivery_id) == 3  # the same webhook-id, before and after
        d = await delivery(rt, delivery_id)
        assert d.replay_count == 1
        assert d.attempt_count == 1  # a fresh count
        assert [(a.replay, a.number) for a in await attempts(rt, delivery_id)] == [
            (0, 1),
            (0, 2),
            (1, 1),
        ]
    last = receiver.received[-1]
    Webhook(sub.secrets[0]).verify(last.body, last.headers)

    audit = await client.get(
        "/admin/v1/audit", params={"action": "deliveries.replay"}, headers=admin_headers
    )
    [entry] = audit.json()["items"]
    assert entry["actor"].startswith("admin:")
    assert entry["details"]["queued"] == 3
    assert entry["details"]["refused"] == 1
    assert entry["details"]["filter"] == {
        "status": "dead",
        "tenant_id": tenant,
        "error_class": "http_400",
    }


async def test_replay_by_ids_refuses_per_item_and_is_paced_by_the_rate(
    rt: Runtime,
    clock: FrozenClock,
    engine: DeliveryEngine,
    receivers,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    receiver = await receivers(scripted([400, 400, 200]))
    sub = await make_subscription(rt, await make_tenant(rt), receiver.url, rate_per_second=2)
    dead = await kill(engine, clock, sub, 2)
    clock.advance(5)
    dead += await kill(engine, clock, sub, 2)
    clock.advance(5)
    [pending] = await make_deliveries(rt, sub)

    r = await client.post(
        "/admin/v1/deliveries/replay",
        json={"ids": [*dead, pending, "dlv_missing"]},
        headers=admin_headers,
    )

    body = r.json()
    assert body["queued"] == 4
    assert sorted(body["refused"], key=lambda r: r["reason"]) == [
        {"id": pending, "reason": "not_dead"},
        {"id": "dlv_missing", "reason": "not_found"},
    ]
    before = len(receiver.received)
    await engine.run_until_idle()
    assert len(receiver.received) - before == 2  # the lane's rate paces the replay
    for _ in range(3):
        clock.advance(1)
        await engine.run_until_idle()
    assert await statuses(rt, dead) == {"delivered": 4}


async def test_replay_request_must_name_ids_or_a_filter(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for body in ({}, {"ids": ["dlv_a"], "filter": {}}, {"filter": {"status": "delivered"}}):
        r = await client.post("/admin/v1/deliveries/replay", json=body, headers=admin_headers)
        assert r.status_code == 422, body
        assert r.json()["code"] == "VALIDATION_FAILED"
