"""Action rate limits and quotas: 429s with correct Retry-After and RateLimit headers,
one budget across API processes, replays free, the in-process fallback when Redis is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY

from hub.app import Hub, build_hub, create_app
from hub.clock import FrozenClock
from hub.config import Settings
from hub.kv.connection import create_redis
from hub.limits.multi import MultiLimiter
from hub.runtime import Runtime
from tests.actions.conftest import LEAD, Caller, Upstream, new_key
from tests.conftest import Factory


async def limited(
    factory: Factory, client: httpx.AsyncClient, upstream: Upstream, **limits: int
) -> Caller:
    tenant = await factory.tenant("Limited", limits=limits.pop("tenant", {}))  # type: ignore[arg-type]
    r = await client.patch(
        f"/admin/v1/tenants/{tenant['id']}",
        json={"upstream_url": upstream.url, "upstream_secret": upstream.secret},
        headers=factory.admin_headers,
    )
    assert r.status_code == 200
    integration = await factory.integration(tenant["id"], limits=limits)
    return Caller(client, integration, tenant["id"])


@pytest.fixture
async def second_client(
    settings: Settings, clock: FrozenClock, rt: Runtime
) -> AsyncIterator[httpx.AsyncClient]:
    """Another API process: its own runtime (pools, limiter) on the same Postgres and Redis."""
    other = await build_hub(settings, clock=clock)
    await other.start()
    transport = httpx.ASGITransport(app=create_app(settings, hub=other))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c
    await other.close()


async def test_n_plus_first_is_429_with_retry_after(
    factory: Factory, client: httpx.AsyncClient, upstream: Upstream, clock: FrozenClock
) -> None:
    caller = await limited(factory, client, upstream, actions_per_minute=5)
    answers = [await caller.act("create_lead", LEAD, new_key()) for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    refused = answers[5]
    assert refused.json()["code"] == "RATE_LIMITED"
    # 5 per minute: the next slot opens 60/5 = 12 s later.
    assert refused.headers["retry-after"] == "12"
    assert refused.headers["ratelimit-policy"] == (
        '"integration-minute";q=5;w=60, "tenant-minute";q=3000;w=60, "tenant-day";q=200000;w=86400'
    )
    assert refused.headers["ratelimit"].startswith('"integration-minute";r=0;t=')
    assert [r.headers["ratelimit"].split(";")[1] for r in answers[:5]] == [
        "r=4",
        "r=3",
        "r=2",
        "r=1",
        "r=0",
    ]
    clock.advance(11)
    assert (await caller.act("create_lead", LEAD, new_key())).status_code == 429
    clock.advance(1)
    assert (await caller.act("create_lead", LEAD, new_key())).status_code == 200
    assert len(upstream.calls) == 6


async def test_two_processes_share_one_budget(
    factory: Factory,
    client: httpx.AsyncClient,
    second_client: httpx.AsyncClient,
    upstream: Upstream,
) -> None:
    caller = await limited(factory, client, upstream, actions_per_minute=4)
    other = Caller(second_client, caller.integration, caller.tenant_id)
    statuses = []
    for i in range(6):
        who = caller if i % 2 == 0 else other
        statuses.append((await who.act("create_lead", LEAD, new_key())).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_tenant_day_quota_is_quota_exceeded(
    factory: Factory, client: httpx.AsyncClient, upstream: Upstream
) -> None:
    caller = await limited(
        factory,
        client,
        upstream,
        tenant={"actions_per_day": 3},  # type: ignore[arg-type]
    )
    sibling = Caller(
        client, await factory.integration(caller.tenant_id, name="Sibling"), caller.tenant_id
    )
    assert (await caller.act("create_lead", LEAD, new_key())).status_code == 200
    assert (await sibling.act("create_lead", LEAD, new_key())).status_code == 200
    assert (await caller.act("create_lead", LEAD, new_key())).status_code == 200
    r = await sibling.act("create_lead", LEAD, new_key())
    assert r.status_code == 429
    assert r.json()["code"] == "QUOTA_EXCEEDED"
    assert r.headers["retry-after"] == str(86400 // 3)


async def test_replays_and_conflicts_are_free_and_throttled_keys_released(
    factory: Factory, client: httpx.AsyncClient, upstream: Upstream, clock: FrozenClock
) -> None:
    caller = await limited(factory, client, upstream, actions_per_minute=1)
    key = new_key()
    assert (await caller.act("create_lead", LEAD, key)).status_code == 200
    for _ in range(5):
        assert (await caller.act("create_lead", LEAD, key)).status_code == 200
    held_back = new_key()
    assert (await caller.act("create_lead", LEAD, held_back)).status_code == 429
    # Nothing ran under the throttled key: it stays free, even for another body.
    clock.advance(60)
    r = await caller.act("create_lead", {**LEAD, "company_name": "Outra"}, held_back)
    assert r.status_code == 200
    assert len(upstream.calls) == 2


async def test_limits_refuse_together_or_charge_together(rt: Runtime, clock: FrozenClock) -> None:
    from hub.limits.gcra import Limit

    limiter = MultiLimiter(rt.redis)
    wide = (rt.keys.rate_limit("t", "wide", "m"), Limit(5, 60))
    narrow = (rt.keys.rate_limit("t", "narrow", "m"), Limit(1, 60))
    assert all(d.allowed for d in await limiter.hit([wide, narrow], clock.now()))
    refused = await limiter.hit([wide, narrow], clock.now())
    assert [d.allowed for d in refused] == [True, False]
    # The refused request did not use the wide bucket: 5 - 1 = 4 left before this hit.
    (alone,) = await limiter.hit([wide], clock.now())
    assert alone.remaining == 3
    zero = await limiter.hit([wide, (narrow[0], Limit(0, 60))], clock.now())
    assert [d.allowed for d in zero] == [True, False]


def _gauge() -> float:
    value = REGISTRY.get_sample_value("hub_rate_limiter_fallback")
    return float(value or 0.0)


async def test_redis_down_falls_back_per_process_and_says_so(
    factory: Factory,
    client: httpx.AsyncClient,
    upstream: Upstream,
    rt: Runtime,
    hub: Hub,
    clock: FrozenClock,
) -> None:
    caller = await limited(factory, client, upstream, actions_per_minute=2)
    limiter = hub.actions.limiter
    healthy = limiter._redis
    dead = create_redis("redis://127.0.0.1:1/0")
    limiter._redis = MultiLimiter(dead)
    try:
        statuses = [
            (await caller.act("create_lead", LEAD, new_key())).status_code for _ in range(3)
        ]
        # Actions keep working, and the limits still hold within this process.
        assert statuses == [200, 200, 429]
        assert limiter.degraded
        assert _gauge() == 1.0
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["action_rate_limits"].startswith("fallback")
        # Redis is probed again after a pause, not on every request.
        limiter._redis = healthy
        assert (await caller.act("create_lead", LEAD, new_key())).status_code == 429
        assert limiter.degraded
        clock.advance(60)
        assert (await caller.act("create_lead", LEAD, new_key())).status_code == 200
        assert not limiter.degraded
        assert _gauge() == 0.0
        assert (await client.get("/readyz")).json()["status"] == "ready"
    finally:
        limiter._redis = healthy
        await dead.aclose()
