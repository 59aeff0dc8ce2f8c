"""Delivery benchmark: ``python -m bench.delivery [--deliveries 20000] [--noop-jobs 10000]``.

Measured in one run, against one local sink process that answers 200 at once
(``bench/delivery/sink.py``), with one ``hub worker`` process on Postgres + Redis:

(a) arq's own rate for the no-op job (``hub.worker.app.noop``), queued beforehand
    and drained by the same worker process;
(b) a bare aiohttp client posting the same body to the sink, 32 at a time;
(c) the hub: ``--deliveries`` pending deliveries (10 subscriptions, unthrottled)
    handed to the engine with ``enqueue_deliveries``, until all are delivered;
(d) latency: events published through ``POST /v1/events`` at ``--rate`` events/s
    (batches of 10), ingest-to-delivered (``delivered_at - event_received_at``).

Targets (the budget in docs/performance.md, "Delivery engine"): (c)/(a) >= 1.0; p99 of
(d) <= 1 s at 300 events/s. The last line prints the ratios. A fresh database is
created and dropped; Redis keys are prefixed and removed. Environment:
``HUB_BENCH_DATABASE_URL``, ``HUB_BENCH_REDIS_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import func, insert, select

from hub.admin.auth import CLI_ADMIN
from hub.app import build_hub, create_app
from hub.config import Settings, load_settings
from hub.delivery.dispatch import enqueue_deliveries
from hub.delivery.models import Delivery
from hub.events.catalog import EVENT_TYPES
from hub.ids import new_id
from hub.runtime import Runtime
from hub.security.encryption import generate_key
from hub.tenancy import service
from hub.tenancy.schemas import IntegrationCreate, TenantCreate
from tests.support.databases import create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIPTIONS = 10
BARE_CONCURRENCY = 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def body_of(n: int) -> bytes:
    import msgspec

    return msgspec.json.encode(
        {
            "id": new_id("event"),
            "type": "lead.created",
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": {**EVENT_TYPES["lead.created"].sample, "lead_id": f"lead_{n}"},
        }
    )


async def wait_http(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def sink_count(base: str) -> int:
    async with httpx.AsyncClient() as client:
        return int((await client.get(f"{base}/count")).text)


# -- (b) -------------------------------------------------------------------------------


async def bare_client(url: str, n: int) -> float:
    body = body_of(0)
    headers = {"content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=BARE_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        left = n

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(BARE_CONCURRENCY)))
        return n / (time.perf_counter() - started)


# -- (a) -------------------------------------------------------------------------------


async def queue_noops(rt: Runtime, n: int) -> None:
    for start in range(0, n, 40):  # within the client's pool of 64 connections
        await asyncio.gather(
            *(
                rt.redis.enqueue_job("noop", _queue_name=rt.keys.queue)
                for _ in range(min(40, n - start))
            )
        )


async def drain_rate(rt: Runtime, n: int) -> float:
    """Jobs/s from the queue's first decrease to empty (worker start-up excluded)."""
    first: tuple[float, int] | None = None
    while True:
        left = int(await rt.redis.zcard(rt.keys.queue))
        now = time.perf_counter()
        if first is None and left < n:
            first = (now, left)
        if left == 0 and first is not None:
            done = first[1]
            return done / (now - first[0]) if now > first[0] else float("inf")
        await asyncio.sleep(0.005)


# -- (c) -------------------------------------------------------------------------------


async def outbox_rows(rt: Runtime, subs: list[dict[str, Any]], n: int) -> list[str]:
    now = rt.clock.now()
    rows = []
    for i in range(n):
        sub = subs[i % len(subs)]
        rows.append(
            {
                "id": new_id("delivery"),
                "tenant_id": sub["tenant_id"],
                "integration_id": sub["integration_id"],
                "subscription_id": sub["id"],
                "event_id": new_id("event"),
                "event_type": "lead.created",
                "sandbox": False,
                "body": body_of(i),
                "policy_version": "bench",
                "status": "pending",
                "attempt_count": 0,
                "next_attempt_at": now,
                "created_at": now,
                "event_received_at": now,
                "replay_count": 0,
            }
        )
    async with rt.db.transaction() as session:
        for start in range(0, n, 2000):
            await session.execute(insert(Delivery), rows[start : start + 2000])
    return [r["id"] for r in rows]


async def delivered(rt: Runtime) -> int:
    async with rt.db.session() as session:
        n = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")
        )
    return int(n or 0)


async def hub_rate(rt: Runtime, subs: list[dict[str, Any]], n: int) -> float:
    """From the hand-off to the last ``delivered_at`` (polled slowly: the poll is
    not free for Postgres, and the end time comes from the rows themselves)."""
    before = await delivered(rt)
    ids = await outbox_rows(rt, subs, n)
    started = datetime.now(UTC)
    await enqueue_deliveries(rt, ids)
    while await delivered(rt) < before + n:
        await asyncio.sleep(0.25)
    async with rt.db.session() as session:
        end = await session.scalar(
            select(func.max(Delivery.delivered_at)).where(Delivery.policy_version == "bench")
        )
    assert end is not None
    return n / (end - started).total_seconds()


# -- (d) -------------------------------------------------------------------------------


async def latency(
    rt: Runtime, client: httpx.AsyncClient, key: str, rate: int, seconds: float
) -> list[float]:
    sample = EVENT_TYPES["lead.created"].sample
    headers = {"Authorization": f"Bearer {key}"}
    per_batch = 10
    interval = per_batch / rate
    run = uuid.uuid4().hex[:6]
    sent = 0
    started = time.perf_counter()
    tick = 0
    pending: set[asyncio.Task[httpx.Response]] = set()
    while time.perf_counter() - started < seconds:
        events = [
            {"id": f"{run}-{sent + i}", "type": "lead.created", "data": copy.deepcopy(sample)}
            for i in range(per_batch)
        ]
        sent += per_batch
        task = asyncio.create_task(
            client.post("/v1/events", json={"events": events}, headers=headers)
        )
        pending.add(task)
        task.add_done_callback(pending.discard)
        tick += 1
        # Open loop: the next batch leaves on schedule whatever the last one did.
        await asyncio.sleep(max(0.0, started + tick * interval - time.perf_counter()))
    await asyncio.gather(*pending)
    async with rt.db.session() as session:
        while True:
            rows = (
                await session.execute(
                    select(Delivery.delivered_at, Delivery.event_received_at).where(
                        Delivery.policy_version != "bench"
                    )
                )
            ).all()
            if len(rows) >= sent and all(done is not None for done, _ in rows):
                break
            await asyncio.sleep(0.1)
    return sorted((done - received).total_seconds() for done, received in rows)


# -- orchestration ---------------------------------------------------------------------


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_DATABASE_URL": settings.database_url,
            "HUB_REDIS_URL": settings.redis_url,
            "HUB_REDIS_PREFIX": settings.redis_prefix,
            "HUB_SECRET_KEYS": ",".join(settings.secret_keys),
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_LOG_LEVEL": "WARNING",
            # Rows are written before they are handed over: no sweep may start early.
            "HUB_DELIVERY_SWEEP_SECONDS": "3600",
        }
    )
    return env


async def setup(rt: Runtime, client: httpx.AsyncClient, sink: str) -> tuple[list[dict], str]:
    tenant = await service.create_tenant(rt, CLI_ADMIN, TenantCreate(name="Bench"))
    source = await service.create_integration(
        rt,
        CLI_ADMIN,
        tenant.id,
        IntegrationCreate(name="Lead engine", kind="source", scopes=["events:publish"]),
    )
    zap = await service.create_integration(
        rt,
        CLI_ADMIN,
        tenant.id,
        IntegrationCreate(name="Zap", kind="zapier", scopes=["triggers:*"]),
    )
    subs = []
    for i in range(SUBSCRIPTIONS + 1):
        # (c)'s subscriptions take another type, so (d)'s events reach only the last.
        event = "lead.created" if i == SUBSCRIPTIONS else "lead.updated"
        r = await client.post(
            "/v1/hooks",
            json={"event": event, "target_url": f"{sink}/hook/{i}"},
            headers={"Authorization": f"Bearer {zap.api_key}"},
        )
        assert r.status_code == 201, r.text
        sub_id = r.json()["id"]
        # Unthrottled: this measures the engine, not the endpoint's 20/s pacing.
        r = await client.patch(
            f"/admin/v1/subscriptions/{sub_id}",
            json={"rate_per_second": 10_000},
            headers={"Authorization": f"Bearer {rt.settings.bootstrap_admin_token}"},
        )
        assert r.status_code == 200, r.text
        subs.append({"id": sub_id, "tenant_id": tenant.id, "integration_id": zap.id})
    # The last subscription receives the published events of (d); the rest take (c).
    return subs, source.api_key


async def run(args: argparse.Namespace) -> str:
    base = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    url = await create_postgres_database(base)
    settings = load_settings(
        {
            "HUB_DATABASE_URL": url,
            "HUB_REDIS_URL": os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "HUB_REDIS_PREFIX": f"hubbench:{uuid.uuid4().hex[:8]}:",
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_BOOTSTRAP_ADMIN_TOKEN": uuid.uuid4().hex + uuid.uuid4().hex,
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    port = free_port()
    sink = f"http://127.0.0.1:{port}"
    sink_proc = subprocess.Popen(
        [sys.executable, "-m", "bench.delivery.sink", "--port", str(port)], cwd=ROOT
    )
    worker: subprocess.Popen[bytes] | None = None
    built = await build_hub(settings, migrate=True)
    rt = built.rt
    try:
        await built.start()
        await wait_http(f"{sink}/count")
        app = create_app(settings, hub=built)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            subs, publisher_key = await setup(rt, client, sink)

            bare = await bare_client(f"{sink}/hook/bare", args.deliveries)
            print(f"(b) bare aiohttp, {BARE_CONCURRENCY} concurrent: {bare:,.0f} posts/s")

            await queue_noops(rt, args.noop_jobs)
            worker = subprocess.Popen(
                [sys.executable, "-m", "hub", "worker"], cwd=ROOT, env=worker_env(settings)
            )
            noop = await drain_rate(rt, args.noop_jobs)
            print(f"(a) arq no-op jobs, one worker: {noop:,.0f} jobs/s")

            sunk_before = await sink_count(sink)
            hub = await hub_rate(rt, subs[:SUBSCRIPTIONS], args.deliveries)
            sunk = await sink_count(sink) - sunk_before
            print(
                f"(c) hub, {args.deliveries:,} deliveries over {SUBSCRIPTIONS} subscriptions, "
                f"one worker: {hub:,.0f} delivered/s (sink saw {sunk:,} requests)"
            )

            lat = await latency(rt, client, publisher_key, args.rate, args.latency_seconds)
            p50 = statistics.median(lat)
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(
                f"(d) {len(lat):,} events at {args.rate}/s: ingest-to-delivered "
                f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
            )
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        sink_proc.terminate()
        sink_proc.wait(10)
        keys = await rt.redis.keys(settings.redis_prefix + "*")
        if keys:
            await rt.redis.delete(*keys)
        await built.close()
        await drop_postgres_database(base, url)
    return (
        f"ratios: hub/arq_noop {hub / noop:.2f}x (target >= 1.0), "
        f"hub/bare_aiohttp {hub / bare:.2f}x, "
        f"p99 ingest-to-delivered at {args.rate}/s {p99:.3f} s (target <= 1 s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--noop-jobs", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=300, help="events/s for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(asyncio.run(run(args)))
    return 0
