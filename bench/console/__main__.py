"""``python -m bench.console``: see the package's docstring."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

import bench.console
from bench.actions.run import serving
from bench.delivery.run import free_port
from bench.harness import clear_redis, loadavg, progress
from hub.config import Settings, load_settings
from hub.delivery.models import Delivery, DeliveryAttempt
from hub.events.models import Event
from hub.ids import PREFIXES, new_ulid
from hub.runtime import build_runtime
from hub.security.encryption import generate_key
from tests.delivery.support import integration_of, make_subscription, make_tenant
from tests.support.databases import create_postgres_database, drop_postgres_database

TARGET_P95_MS = 200.0
TENANTS = 4
HOSTS = (
    "https://hooks.zapier.com/hooks/standard",
    "https://hook.eu1.make.com",
    "https://api.partner.example/in",
)
EVENT_TYPES = ("lead.created", "message.received")
WARMUPS = 3
BATCH = 5000


def _id_at(kind: str, moment: datetime) -> str:
    """An id as the hub makes it, but for ``moment`` (ids and creation times agree)."""
    return f"{PREFIXES[kind]}_{new_ulid(int(moment.timestamp() * 1000))}"


@dataclass
class Seeded:
    tenants: list[str]
    dead_id: str
    middle_id: str


def _status(r: random.Random) -> str:
    x = r.random()
    return "delivered" if x < 0.8 else "dead" if x < 0.9 else "retrying" if x < 0.95 else "pending"


async def seed(settings: Settings, count: int) -> Seeded:
    rt = await build_runtime(settings, migrate=True)
    r = random.Random(20261204)
    now = datetime.now(UTC)
    try:
        tenants = [await make_tenant(rt) for _ in range(TENANTS)]
        subs = [
            (tenant, await make_subscription(rt, tenant, host, event_type=event_type))
            for tenant in tenants
            for host in HOSTS
            for event_type in EVENT_TYPES
        ]
        moments = sorted(now - timedelta(seconds=r.uniform(0, 48 * 3600)) for _ in range(count))
        deliveries: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for n, moment in enumerate(moments):
            i = r.randrange(len(subs))
            tenant, sub = subs[i]
            status = _status(r)
            event_id = _id_at("event", moment)
            row_id = _id_at("delivery", moment)
            event_type = EVENT_TYPES[i % len(EVENT_TYPES)]  # the subscription's type
            deliveries.append(
                {
                    "id": row_id,
                    "tenant_id": tenant,
                    "integration_id": integration_of(tenant),
                    "subscription_id": sub.id,
                    "event_id": event_id,
                    "event_type": event_type,
                    "sandbox": False,
                    "body": b'{"type":"%s","data":{"lead_id":"lead_%d"}}'
                    % (event_type.encode(), n),
                    "policy_version": "bench",
                    "status": status,
                    "attempt_count": 2 if status == "dead" else 1 if status != "pending" else 0,
                    "next_attempt_at": moment + timedelta(minutes=5),
                    "created_at": moment,
                    "event_received_at": moment,
                    "delivered_at": moment if status == "delivered" else None,
                    "last_status_code": 200
                    if status == "delivered"
                    else 503
                    if status != "pending"
                    else None,
                    "replay_count": 0,
                }
            )
            if status == "dead":
                for number in (1, 2):
                    attempts.append(
                        {
                            "id": _id_at("attempt", moment + timedelta(seconds=number)),
                            "delivery_id": row_id,
                            "number": number,
                            "started_at": moment + timedelta(seconds=number),
                            "duration_ms": 40,
                            "status_code": 503,
                            "error_class": "http_503",
                            "response_headers": {},
                            "response_excerpt": "status 503",
                            "replay": 0,
                        }
                    )
            if n % 5 == 0:
                events.append(
                    {
                        "id": event_id,
                        "tenant_id": tenant,
                        "integration_id": integration_of(tenant),
                        "producer_id": f"p{n}",
                        "type": event_type,
                        "sandbox": False,
                        "occurred_at": moment,
                        "received_at": moment,
                        "data": None,
                    }
                )
        for model, rows in ((Event, events), (Delivery, deliveries), (DeliveryAttempt, attempts)):
            for start in range(0, len(rows), BATCH):
                async with rt.db.transaction() as session:
                    await session.execute(insert(model), rows[start : start + BATCH])
        if rt.db.engine.dialect.name == "postgresql":
            async with rt.db.engine.connect() as conn:
                await conn.exec_driver_sql("COMMIT")
                await conn.exec_driver_sql("ANALYZE")
        dead = [d["id"] for d in deliveries if d["status"] == "dead"]
        return Seeded(tenants, dead[len(dead) // 2], deliveries[len(deliveries) // 2]["id"])
    finally:
        await rt.close()


# -- the pages ---------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    samples_ms: list[float]

    def p(self, q: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(
    name: str, call: Callable[[], httpx.Response], requests: int, ok: tuple[int, ...] = (200,)
) -> Timing:
    samples: list[float] = []
    for i in range(WARMUPS + requests):
        started = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code not in ok:
            raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
        if i >= WARMUPS:
            samples.append(elapsed)
    return Timing(name, samples)


def pages(base: str, token: str, seeded: Seeded, requests: int) -> list[Timing]:
    with httpx.Client(base_url=base, timeout=30) as client:
        signed_in = client.post("/console/sign-in", data={"token": token})
        if signed_in.status_code != 303:
            raise RuntimeError(f"sign-in: {signed_in.status_code} {signed_in.text[:300]}")
        form = client.get("/console/tenants").text
        found = re.search(r'name="csrf" value="([^"]+)"', form)
        if found is None:
            raise RuntimeError("no CSRF token on /console/tenants")
        csrf = found.group(1)
        hour = datetime.now(UTC) - timedelta(hours=30)
        window = {
            "since": hour.strftime("%Y-%m-%dT%H:%M"),
            "until": (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        }
        gets: list[tuple[str, str, dict[str, str]]] = [
            ("baseline: sign-in page (no database)", "/console/sign-in", {}),
            ("overview (24 h figures)", "/console/overview", {}),
            ("deliveries, first page", "/console/deliveries", {}),
            (
                "deliveries, a page deep in the middle",
                "/console/deliveries",
                {"cursor": seeded.middle_id},
            ),
            ("deliveries by status=dead", "/console/deliveries", {"status": "dead"}),
            (
                "deliveries by tenant + event type",
                "/console/deliveries",
                {"tenant_id": seeded.tenants[1], "event_type": "message.received"},
            ),
            (
                "deliveries by target host",
                "/console/deliveries",
                {"target_host": "hook.eu1.make.com"},
            ),
            ("deliveries in a one-hour window", "/console/deliveries", window),
            ("one delivery with its attempts", f"/console/deliveries/{seeded.dead_id}", {}),
            ("dead letters", "/console/dlq", {}),
            ("audit log", "/console/audit", {}),
            ("subscriptions", "/console/subscriptions", {}),
        ]
        timings = []
        for name, path, params in gets:
            progress(name)
            timings.append(
                _measure(name, lambda p=path, q=params: client.get(p, params=q), requests)
            )  # type: ignore[misc]
        progress("replay confirmation")
        timings.append(
            _measure(
                "replay confirmation (count of every dead delivery)",
                lambda: client.post("/console/dlq/replay", data={"csrf": csrf}),
                requests,
            )
        )
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console", description=(bench.console.__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40, help="per page (default 40)")
    parser.add_argument("--sqlite", action="store_true", help="the embedded backend instead")
    args = parser.parse_args(argv)

    base_db = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    redis_url = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"hubbench:console:{uuid.uuid4().hex[:8]}:"
    admin_token = secrets.token_hex(32)
    started = datetime.now(UTC)
    load_start = loadavg()
    logs = Path(tempfile.mkdtemp(prefix="bench-console-"))
    if args.sqlite:
        database_url = f"sqlite+aiosqlite:///{logs / 'hub.sqlite3'}"
    else:
        database_url = asyncio.run(create_postgres_database(base_db))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": database_url,
            "HUB_REDIS_URL": redis_url,
            "HUB_REDIS_PREFIX": prefix,
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_BOOTSTRAP_ADMIN_TOKEN": admin_token,
            "HUB_STATE_DIR": str(logs),
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    try:
        progress(f"seeding {args.deliveries:,} deliveries")
        t0 = time.perf_counter()
        seeded = asyncio.run(seed(load_settings(env), args.deliveries))
        seed_s = time.perf_counter() - t0
        with serving("hub.server:app", free_port(), env, logs / "hub.log") as (base, _pid):
            timings = pages(base, admin_token, seeded, args.requests)
    except BaseException:
        progress(f"failed: the processes' logs are in {logs}")
        raise
    finally:
        deleted = asyncio.run(clear_redis(redis_url, prefix))
        if not args.sqlite:
            asyncio.run(drop_postgres_database(base_db, database_url))
    shutil.rmtree(logs, ignore_errors=True)

    backend = "SQLite (aiosqlite) + Redis" if args.sqlite else "Postgres 15 + Redis"
    print(
        f"bench.console {started:%Y-%m-%d %H:%M:%S} UTC, {os.cpu_count()} CPUs, load average "
        f"{load_start} -> {loadavg()}; {backend}; {args.deliveries:,} deliveries seeded in "
        f"{seed_s:.0f} s; {args.requests} sequential requests per page after {WARMUPS} warm-ups; "
        f"cleanup: {deleted} Redis keys deleted"
    )
    baseline = timings[0].p(0.95)
    for t in timings:
        print(
            f"  {t.name:<52} p50 {statistics.median(t.samples_ms):7.1f} ms  p95 {t.p(0.95):7.1f} ms"
            f"  max {max(t.samples_ms):7.1f} ms  p95/baseline {t.p(0.95) / baseline:5.1f}"
        )
    misses = [t.name for t in timings if t.p(0.95) > TARGET_P95_MS]
    verdict = "PASS" if not misses else "MISS"
    print(
        f"{verdict}: every page's p95 <= {TARGET_P95_MS:g} ms"
        + (f" (missed: {misses})" if misses else "")
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
