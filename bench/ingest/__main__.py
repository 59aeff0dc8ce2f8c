"""Ingest throughput: batches of 100 events fanned out to 10 subscriptions, on Postgres.

    python -m bench.ingest [--batches 60] [--concurrency 4]

Drives ``POST /v1/events`` through the whole app in-process (auth, parsing,
validation, the transaction with dedup insert, sanitizing and the outbox rows,
commit, hand-off to Redis); no network hop, so the figure is the hub's and the
database's. A fresh database is created, migrated, and dropped afterwards.

Setup: one tenant, a publisher, 10 subscriptions of ``lead.created`` from 10
integrations, 3 of which narrow the policy with an override, so each event is
sanitized 4 times (once per distinct effective policy) and stored 10 times.

Environment: ``HUB_BENCH_DATABASE_URL`` (default the local test server) and
``HUB_BENCH_REDIS_URL`` (default the local Redis; ``memory://`` works too).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import time
import uuid
from typing import Any

import httpx
import msgspec
from sqlalchemy import func, select

from hub.admin.auth import CLI_ADMIN
from hub.app import build_hub, create_app
from hub.config import load_settings
from hub.delivery.models import Delivery
from hub.events.catalog import EVENT_TYPES
from hub.security.encryption import generate_key
from hub.tenancy import service
from hub.tenancy.schemas import IntegrationCreate, IntegrationPatch, TenantCreate
from tests.support.databases import create_postgres_database, drop_postgres_database

TARGET_RATE = 2_000
BATCH = 100
SUBSCRIPTIONS = 10
OVERRIDES = 3


def _batch(prefix: str, n: int) -> bytes:
    sample = EVENT_TYPES["lead.created"].sample
    events = []
    for i in range(n):
        data = copy.deepcopy(sample)
        data["lead_id"] = f"lead_{prefix}_{i}"
        data["company_name"] = f"Company {prefix} {i}"
        events.append({"id": f"{prefix}-{i}", "type": "lead.created", "data": data})
    return msgspec.json.encode({"events": events})


async def run(batches: int, concurrency: int) -> None:
    base = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    url = await create_postgres_database(base)
    settings = load_settings(
        {
            "HUB_DATABASE_URL": url,
            "HUB_REDIS_URL": os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "HUB_REDIS_PREFIX": f"hubbench:{uuid.uuid4().hex[:8]}:",
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    built = await build_hub(settings, migrate=True, pool_size=concurrency + 2)
    rt = built.rt
    try:
        await built.start()
        tenant = await service.create_tenant(rt, CLI_ADMIN, TenantCreate(name="Bench"))
        source = await service.create_integration(
            rt,
            CLI_ADMIN,
            tenant.id,
            IntegrationCreate(name="Lead engine", kind="source", scopes=["events:publish"]),
        )
        app = create_app(settings, hub=built)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(SUBSCRIPTIONS):
                zap = await service.create_integration(
                    rt,
                    CLI_ADMIN,
                    tenant.id,
                    IntegrationCreate(name=f"Zap {i}", kind="zapier", scopes=["triggers:*"]),
                )
                if i < OVERRIDES:
                    overrides: dict[str, Any] = {"lead.created": {"contact": "drop"}}
                    if i == 1:
                        overrides = {"lead.created": {"company_name": "hash"}}
                    await service.patch_integration(
                        rt, CLI_ADMIN, zap.id, IntegrationPatch(policy_overrides=overrides)
                    )
                r = await client.post(
                    "/v1/hooks",
                    json={"event": "lead.created", "target_url": f"http://127.0.0.1:9/{i}"},
                    headers={"Authorization": f"Bearer {zap.api_key}"},
                )
                assert r.status_code == 201, r.text

            headers = {
                "Authorization": f"Bearer {source.api_key}",
                "content-type": "application/json",
            }
            bodies = [_batch(f"b{n}", BATCH) for n in range(batches + concurrency)]
            # Warm-up: connections, compiled policies, statement caches.
            for body in bodies[:concurrency]:
                assert (await client.post("/v1/events", content=body, headers=headers)).is_success
            queue = list(bodies[concurrency:])

            async def worker() -> None:
                while queue:
                    body = queue.pop()
                    r = await client.post("/v1/events", content=body, headers=headers)
                    assert r.status_code == 202, r.text
                    assert r.json()["accepted"] == BATCH

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started

        async with rt.db.session() as session:
            created = await session.scalar(select(func.count()).select_from(Delivery))
        expected = (batches + concurrency) * BATCH * SUBSCRIPTIONS
        assert created == expected, (created, expected)
    finally:
        await built.close()
        await drop_postgres_database(base, url)

    events_per_s = batches * BATCH / elapsed
    deliveries_per_s = events_per_s * SUBSCRIPTIONS
    ok = deliveries_per_s >= TARGET_RATE
    print(
        f"ingest: {batches} batches x {BATCH} events x {SUBSCRIPTIONS} subscriptions, "
        f"concurrency {concurrency}: {events_per_s:,.0f} events/s, "
        f"{deliveries_per_s:,.0f} deliveries created/s (target {TARGET_RATE:,}), "
        f"ratio {deliveries_per_s / TARGET_RATE:.2f}x -> {'PASS' if ok else 'FAIL'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.batches, args.concurrency))


if __name__ == "__main__":
    main()
