"""``python -m bench.inbound``: see the package's docstring."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

import bench.inbound
from bench.actions.run import cpu_seconds, serving
from bench.delivery.run import free_port
from bench.harness import (
    bare_requests,
    clear_redis,
    loadavg,
    per_request_ms,
    phase,
    process,
    progress,
    wait_http,
)
from bench.inbound.load import RequestFactory
from hub.admin.auth import CLI_ADMIN
from hub.app import default_connectors
from hub.config import Settings, load_settings
from hub.connectors.protocol import ConnectorRegistry
from hub.connectors.schemas import ConnectorPut
from hub.connectors.service import put_connector
from hub.delivery.models import Delivery
from hub.events.models import Event
from hub.runtime import build_runtime
from hub.security.encryption import generate_key
from hub.store.engine import Database
from hub.tenancy import service
from hub.tenancy.schemas import IntegrationCreate, TenantCreate
from tests.support.databases import create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/whatsapp/meta/webhook_text.json"
PHONE_NUMBER_ID = "106540352242922"
GRAPH_URL = "http://127.0.0.1:9"  # never called: nothing is sent
INTEGRATIONS = 5
MEASURED, WARMUP = "bench", "warmup"  # message ids wamid.<run>.<n>
DRAIN_SECONDS = 30.0
TARGET_P95_MS = 200.0
WINDOW_SECONDS = 10.0  # for the p95 timeline
HUB_DEFAULT_HOOK_RATE = 20.0  # hub.hooks.service.DEFAULT_RATE_PER_SECOND


# -- requests ----------------------------------------------------------------------------


def meta_requests(app_secret: str, run: str) -> RequestFactory:
    """Signed Meta text webhooks, the n-th with message id ``wamid.<run>.<n>`` and the
    current time as its timestamp."""
    payload = json.loads(FIXTURE.read_text())
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"], message["timestamp"] = "@@ID@@", "@@TS@@"
    template = json.dumps(payload).encode()
    key = app_secret.encode()

    def make(n: int) -> tuple[bytes, dict[str, str]]:
        body = template.replace(b"@@ID@@", f"wamid.{run}.{n}".encode()).replace(
            b"@@TS@@", str(int(time.time())).encode()
        )
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
        return body, {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}

    return make


# -- setup -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provisioned:
    inbound_path: str
    api_keys: list[str]


async def provision(settings: Settings, app_secret: str) -> Provisioned:
    """Migrate; one tenant, its Meta WhatsApp connector, 5 integrations (no hooks yet)."""
    rt = await build_runtime(settings, migrate=True)
    registry = ConnectorRegistry.of(default_connectors())
    try:
        tenant = await service.create_tenant(rt, CLI_ADMIN, TenantCreate(name="Bench inbound"))
        config = {
            "provider": "meta",
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": "EAAG-bench-" + secrets.token_hex(16),
            "app_secret": app_secret,
            "verify_token": secrets.token_hex(16),
            "graph_url": GRAPH_URL,
        }
        view, _ = await put_connector(
            rt, registry, CLI_ADMIN, tenant.id, "whatsapp", ConnectorPut(config=config)
        )
        if view.inbound_path is None:
            raise RuntimeError("the whatsapp connector has no inbound path")
        keys = []
        for i in range(INTEGRATIONS):
            created = await service.create_integration(
                rt,
                CLI_ADMIN,
                tenant.id,
                IntegrationCreate(name=f"Zap {i}", kind="zapier", scopes=["triggers:*"]),
            )
            keys.append(created.api_key)
        return Provisioned(view.inbound_path, keys)
    finally:
        await registry.aclose()
        await rt.close()


async def subscribe(
    base: str, keys: list[str], sink: str, admin_token: str, rate_per_second: float
) -> None:
    """Each integration's REST hook on ``message.received`` (through the API), paced at
    ``rate_per_second`` (the admin API)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for i, key in enumerate(keys):
            r = await http.post(
                "/v1/hooks",
                json={"event": "message.received", "target_url": f"{sink}/hook/{i}"},
                headers={"Authorization": f"Bearer {key}"},
            )
            if r.status_code != 201:
                raise RuntimeError(f"POST /v1/hooks: {r.status_code} {r.text}")
            if rate_per_second != HUB_DEFAULT_HOOK_RATE:
                r = await http.patch(
                    f"/admin/v1/subscriptions/{r.json()['id']}",
                    json={"rate_per_second": rate_per_second},
                    headers={"Authorization": f"Bearer {admin_token}"},
                )
                if r.status_code != 200:
                    raise RuntimeError(f"PATCH subscription: {r.status_code} {r.text}")


# -- after the load ----------------------------------------------------------------------


@dataclass
class Outcome:
    events: int  # message.received rows of the measured webhooks
    distinct: int  # of the sent message ids, how many have a row
    duplicated: int  # message ids with more than one row
    unexpected: int  # rows whose message id was never sent
    deliveries: int
    delivered: int
    drained_s: float | None  # from the end of the load to every delivery delivered


MEASURED_LIKE = f"%:msg:wamid.{MEASURED}.%"


async def _events(db: Database, sent: int) -> tuple[int, int, int, int]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Event.producer_id, func.count())
                .where(Event.type == "message.received", Event.producer_id.like(MEASURED_LIKE))
                .group_by(Event.producer_id)
            )
        ).all()
    expected = {f"wamid.{MEASURED}.{n}" for n in range(sent)}
    per_id = {producer.rpartition(":msg:")[2]: int(count) for producer, count in rows}
    return (
        sum(per_id.values()),
        len(expected & per_id.keys()),
        sum(1 for count in per_id.values() if count > 1),
        len(per_id.keys() - expected),
    )


async def _deliveries(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Delivery.status, func.count())
                .join(Event, Event.id == Delivery.event_id)
                .where(Event.type == "message.received", Event.producer_id.like(MEASURED_LIKE))
                .group_by(Delivery.status)
            )
        ).all()
    counts = {status: int(n) for status, n in rows}
    return sum(counts.values()), counts.get("delivered", 0)


async def outcome(database_url: str, sent: int, load_ended: float) -> Outcome:
    db = Database(database_url, pool_size=2)
    try:
        events, distinct, duplicated, unexpected = await _events(db, sent)
        expected = events * INTEGRATIONS
        deadline = load_ended + DRAIN_SECONDS
        while True:
            total, delivered = await _deliveries(db)
            now = time.perf_counter()
            if delivered >= expected or now >= deadline:
                break
            await asyncio.sleep(0.25)
        drained = now - load_ended if delivered >= expected else None
        return Outcome(events, distinct, duplicated, unexpected, total, delivered, drained)
    finally:
        await db.dispose()


# -- the run -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inbound", description=(bench.inbound.__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s (default 100)")
    parser.add_argument("--seconds", type=float, default=60.0, help="each phase (default 60)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each phase")
    parser.add_argument(
        "--hook-rate",
        type=float,
        default=10_000.0,
        help="each subscription's delivery pacing, rate_per_second (default 10000, i.e. "
        f"unthrottled as in bench.delivery; the hub's default is {HUB_DEFAULT_HOOK_RATE:g})",
    )
    args = parser.parse_args(argv)

    base_db = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    redis_url = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"hubbench:inbound:{uuid.uuid4().hex[:8]}:"
    app_secret = secrets.token_hex(24)
    admin_token = secrets.token_hex(32)
    started = datetime.now(UTC)
    load_start = loadavg()
    database_url = asyncio.run(create_postgres_database(base_db))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            # Production refuses HUB_ALLOW_PRIVATE_TARGETS (hub/config.py).
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": database_url,
            "HUB_REDIS_URL": redis_url,
            "HUB_REDIS_PREFIX": prefix,
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_BOOTSTRAP_ADMIN_TOKEN": admin_token,
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    logs = Path(tempfile.mkdtemp(prefix="bench-inbound-"))
    try:
        provisioned = asyncio.run(provision(load_settings(env), app_secret))
        sink_port, bare_port, hub_port = free_port(), free_port(), free_port()
        sink = f"http://127.0.0.1:{sink_port}"
        sink_argv = [sys.executable, "-m", "bench.delivery.sink", "--port", str(sink_port)]
        with process(sink_argv, env, logs / "sink.log") as sink_proc:
            wait_http(f"{sink}/count", sink_proc, logs / "sink.log")

            with serving("bench.actions.bare:app", bare_port, env, logs / "bare.log") as (
                base,
                pid,
            ):
                progress(f"(a) bare app: {args.warmup:g} s warm-up + {args.seconds:g} s")
                a, (cpu_a,) = phase(
                    f"{base}/bare",
                    args.rate,
                    args.seconds,
                    args.warmup,
                    (bare_requests(), bare_requests()),
                    [pid],
                )

            with serving("hub.server:app", hub_port, env, logs / "hub.log") as (base, pid):
                asyncio.run(
                    subscribe(base, provisioned.api_keys, sink, admin_token, args.hook_rate)
                )
                worker_argv = [sys.executable, "-m", "hub", "worker"]
                with process(worker_argv, env, logs / "worker.log") as worker:
                    progress(f"(b) hub inbound: {args.warmup:g} s warm-up + {args.seconds:g} s")
                    b, (cpu_b, cpu_worker) = phase(
                        base + provisioned.inbound_path,
                        args.rate,
                        args.seconds,
                        args.warmup,
                        (meta_requests(app_secret, MEASURED), meta_requests(app_secret, WARMUP)),
                        [pid, worker.pid],
                    )
                    load_ended = time.perf_counter()
                    progress(f"waiting up to {DRAIN_SECONDS:g} s for the worker to drain")
                    worker_cpu_before_drain = cpu_seconds(worker.pid)
                    after = asyncio.run(outcome(database_url, b.sent, load_ended))
                    cpu_drain = cpu_seconds(worker.pid) - worker_cpu_before_drain
                    if worker.poll() is not None:
                        raise RuntimeError(
                            f"the worker exited:\n{(logs / 'worker.log').read_text()}"
                        )
                sunk = int(httpx.get(f"{sink}/count", timeout=5).text)
    except BaseException:
        progress(f"failed: the processes' logs are in {logs}")
        raise
    finally:
        deleted = asyncio.run(clear_redis(redis_url, prefix))
        asyncio.run(drop_postgres_database(base_db, database_url))
    shutil.rmtree(logs, ignore_errors=True)

    print(
        f"bench.inbound {started:%Y-%m-%d %H:%M:%S} UTC, {os.cpu_count()} CPUs, "
        f"load average {load_start} -> {loadavg()}; rate {args.rate:g}/s for {args.seconds:g} s "
        f"per phase (warm-up {args.warmup:g} s each)"
    )
    print(
        "setup: HUB_ENV=development (production refuses HUB_ALLOW_PRIVATE_TARGETS, needed "
        f"for the loopback sink); 1 tenant, whatsapp connector provider=meta; {INTEGRATIONS} "
        f"zapier integrations x 1 REST hook on message.received (rate_per_second "
        f"{args.hook_rate:g}) -> aiohttp sink; 1 granian API process + 1 hub worker"
    )
    print(
        f"(a) bare POST /bare {json.dumps(a.summary())} "
        f"server_cpu_ms_per_request={per_request_ms(cpu_a, a.sent)}"
    )
    print(
        f"(b) inbound POST /v1/inbound/whatsapp/<id> {json.dumps(b.summary())} "
        f"server_cpu_ms_per_request={per_request_ms(cpu_b, b.sent)} "
        f"worker_cpu_ms_per_request={per_request_ms(cpu_worker, b.sent)}"
    )
    if after.drained_s is not None:
        drained = f"drained {after.drained_s:.1f} s after the load"
    else:
        drained = f"NOT drained {DRAIN_SECONDS:g} s after the load"
    for name, result in (("a", a), ("b", b)):
        print(f"({name}) p95 ms per {WINDOW_SECONDS:g} s: {result.p95_by_window(WINDOW_SECONDS)}")
    print(
        f"after (b): message.received events stored {after.events} (message ids "
        f"{after.distinct}/{b.sent} sent, duplicated {after.duplicated}, unexpected "
        f"{after.unexpected}); deliveries delivered {after.delivered}/{after.deliveries} "
        f"(expected {after.events * INTEGRATIONS}), {drained}"
    )
    print(
        f"worker CPU {cpu_worker:.1f} s during the load, {cpu_drain:.1f} s after it; "
        f"sink received {sunk} posts (warm-up included); cleanup: database dropped, "
        f"{deleted} Redis keys deleted"
    )

    p95_a, p95_b = a.p(0.95), b.p(0.95)
    once = after.events == after.distinct == b.sent and not after.duplicated + after.unexpected
    checks = [
        ("p95(b)", f"{p95_b:.1f} ms <= {TARGET_P95_MS:g}", p95_b <= TARGET_P95_MS),
        ("5xx(b)", f"{b.status_5xx} == 0", b.status_5xx == 0),
        ("stored exactly once", f"{after.distinct}/{b.sent}", once),
    ]
    verdict = "PASS" if all(ok for *_, ok in checks) else "MISS"
    print(
        "targets: "
        + "; ".join(f"{name} {what} {'PASS' if ok else 'MISS'}" for name, what, ok in checks)
        + f"; p95(b)/p95(a) = {p95_b / p95_a:.2f}x (informational) => {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
