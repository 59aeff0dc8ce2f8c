"""``python -m bench.email``: see the package's docstring."""

from __future__ import annotations

import argparse
import asyncio
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

import bench.email
from bench.actions.run import UNLIMITED, serving
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
from bench.inbound.load import LoadResult, RequestFactory
from hub.admin.auth import CLI_ADMIN
from hub.app import default_connectors
from hub.config import Settings, load_settings
from hub.connectors.models import OutboundMessage
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
from tests.connectors.email.fake_sendgrid import EventSigner
from tests.support.databases import create_postgres_database, drop_postgres_database

BATCH = 10  # events per webhook request, as SendGrid batches them
MEASURED, WARMUP = "bench", "warmup"
DRAIN_SECONDS = 30.0
TARGET_P95_MS = 200.0
WINDOW_SECONDS = 10.0
# The guards count per tenant; the bench's one tenant sends far more than their defaults.
NO_GUARDS = {
    "per_minute": None,
    "per_domain_per_minute": None,
    "per_recipient_per_day": None,
    "daily_quota": None,
}


# -- requests ----------------------------------------------------------------------------


def send_requests(api_key: str, run: str) -> RequestFactory:
    """``send_email`` calls, the n-th to ``lead<n>@<run>.example`` with its own key."""
    auth = f"Bearer {api_key}"

    def make(n: int) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "to": [f"lead{n}@{run}.example"],
                "subject": "Sua proposta",
                "text": "Olá! Segue a proposta de hoje.",
                "html": "<p>Olá! Segue a <b>proposta</b> de hoje.</p>",
                "template_id": "proposal_email",
                "template_version": "3",
            }
        ).encode()
        headers = {
            "content-type": "application/json",
            "authorization": auth,
            "idempotency-key": f"{run}-{n}-{uuid.uuid4().hex}",
        }
        return body, headers

    return make


def webhook_requests(
    signer: EventSigner, messages: list[tuple[str, str]], run: str
) -> RequestFactory:
    """Signed Event Webhook batches: the n-th holds ``delivered`` events
    ``<run>-<n>-<i>`` for the messages after the previous batch's."""

    def make(n: int) -> tuple[bytes, dict[str, str]]:
        now = int(time.time())
        items = []
        for i in range(BATCH):
            message_id, provider_id = messages[(n * BATCH + i) % len(messages)]
            items.append(
                {
                    "email": f"lead{n}@{run}.example",
                    "timestamp": now,
                    "event": "delivered",
                    "sg_event_id": f"{run}-{n}-{i}",
                    "sg_message_id": f"{provider_id}.filter0001.16648.5515E0B88.0",
                    "hub_message_id": message_id,
                    "response": "250 2.0.0 OK",
                }
            )
        body = json.dumps(items).encode()
        return body, {"content-type": "application/json", **signer.headers(body, str(now))}

    return make


# -- setup -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provisioned:
    tenant_id: str
    inbound_path: str
    api_key: str


async def provision(settings: Settings, signer: EventSigner, sendgrid: str) -> Provisioned:
    """Migrate; one tenant, its SendGrid e-mail connector, one integration."""
    rt = await build_runtime(settings, migrate=True)
    registry = ConnectorRegistry.of(default_connectors())
    try:
        tenant = await service.create_tenant(
            rt, CLI_ADMIN, TenantCreate(name="Bench e-mail", limits=UNLIMITED)
        )
        config = {
            "provider": "sendgrid",
            "api_key": "SG.bench-" + secrets.token_hex(16),
            "api_url": sendgrid,
            "from_address": "vendas@alquimista.example",
            "from_name": "Alquimista",
            "webhook_public_key": signer.public_key,
            "guards": NO_GUARDS,
        }
        view, _ = await put_connector(
            rt, registry, CLI_ADMIN, tenant.id, "email", ConnectorPut(config=config)
        )
        if view.inbound_path is None:
            raise RuntimeError("the email connector has no inbound path")
        created = await service.create_integration(
            rt,
            CLI_ADMIN,
            tenant.id,
            IntegrationCreate(
                name="Zap", kind="zapier", scopes=["actions:*", "triggers:*"], limits=UNLIMITED
            ),
        )
        return Provisioned(tenant.id, view.inbound_path, created.api_key)
    finally:
        await registry.aclose()
        await rt.close()


async def subscribe(base: str, api_key: str, sink: str, admin_token: str) -> None:
    """A REST hook on ``email.delivered``, unthrottled (as ``bench.delivery``)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.post(
            "/v1/hooks",
            json={"event": "email.delivered", "target_url": f"{sink}/hook"},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        if r.status_code != 201:
            raise RuntimeError(f"POST /v1/hooks: {r.status_code} {r.text}")
        r = await http.patch(
            f"/admin/v1/subscriptions/{r.json()['id']}",
            json={"rate_per_second": 10_000},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        if r.status_code != 200:
            raise RuntimeError(f"PATCH subscription: {r.status_code} {r.text}")


# -- after the load ----------------------------------------------------------------------


async def sent_messages(database_url: str, run: str) -> list[tuple[str, str]]:
    """(hub id, provider id) of the messages sent in the phase ``run``."""
    db = Database(database_url, pool_size=1)
    try:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(OutboundMessage.id, OutboundMessage.provider_message_id).where(
                        OutboundMessage.recipient.like(f"%@{run}.example"),
                        OutboundMessage.status == "sent",
                    )
                )
            ).all()
    finally:
        await db.dispose()
    return [(message_id, provider_id or "") for message_id, provider_id in rows]


@dataclass
class Delivered:
    events: int  # email.delivered rows of the measured webhooks
    distinct: int
    duplicated: int
    deliveries: int
    delivered: int
    drained_s: float | None


async def delivered_outcome(database_url: str, load_ended: float) -> Delivered:
    db = Database(database_url, pool_size=2)
    try:
        return await _delivered(db, load_ended)
    finally:
        await db.dispose()


async def _delivered(db: Database, load_ended: float) -> Delivered:
    measured = f"%:{MEASURED}-%"
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Event.producer_id, func.count())
                .where(Event.type == "email.delivered", Event.producer_id.like(measured))
                .group_by(Event.producer_id)
            )
        ).all()
    counts = [int(n) for _, n in rows]
    deadline = load_ended + DRAIN_SECONDS
    while True:
        async with db.session() as session:
            by_status = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count())
                        .join(Event, Event.id == Delivery.event_id)
                        .where(Event.type == "email.delivered", Event.producer_id.like(measured))
                        .group_by(Delivery.status)
                    )
                ).all()
            )
        total, done = sum(by_status.values()), by_status.get("delivered", 0)
        now = time.perf_counter()
        if done >= len(counts) or now >= deadline:
            break
        await asyncio.sleep(0.25)
    drained = now - load_ended if done >= len(counts) else None
    return Delivered(
        sum(counts), len(counts), sum(1 for c in counts if c > 1), total, done, drained
    )


def _line(name: str, what: str, result: LoadResult, cpu_ms: float) -> str:
    return f"({name}) {what} {json.dumps(result.summary())} server_cpu_ms_per_request={cpu_ms}"


# -- the run -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.email", description=(bench.email.__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--rate", type=float, default=50.0, help="requests/s (default 50)")
    parser.add_argument("--seconds", type=float, default=30.0, help="each phase (default 30)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each phase")
    args = parser.parse_args(argv)

    base_db = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    redis_url = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"hubbench:email:{uuid.uuid4().hex[:8]}:"
    admin_token = secrets.token_hex(32)
    signer = EventSigner()
    started = datetime.now(UTC)
    load_start = loadavg()
    database_url = asyncio.run(create_postgres_database(base_db))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_ENV": "development",  # production refuses HUB_ALLOW_PRIVATE_TARGETS
            "HUB_DATABASE_URL": database_url,
            "HUB_REDIS_URL": redis_url,
            "HUB_REDIS_PREFIX": prefix,
            "HUB_SECRET_KEYS": generate_key(),
            "HUB_BOOTSTRAP_ADMIN_TOKEN": admin_token,
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    logs = Path(tempfile.mkdtemp(prefix="bench-email-"))
    try:
        sink_port, bare_port, hub_port = free_port(), free_port(), free_port()
        sink = f"http://127.0.0.1:{sink_port}"
        provisioned = asyncio.run(provision(load_settings(env), signer, sink))
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
                asyncio.run(subscribe(base, provisioned.api_key, sink, admin_token))
                progress(f"(b) send_email: {args.warmup:g} s warm-up + {args.seconds:g} s")
                calls_before = int(httpx.get(f"{sink}/count", timeout=5).text)
                b, (cpu_b,) = phase(
                    f"{base}/v1/actions/send_email",
                    args.rate,
                    args.seconds,
                    args.warmup,
                    (
                        send_requests(provisioned.api_key, MEASURED),
                        send_requests(provisioned.api_key, WARMUP),
                    ),
                    [pid],
                )
                provider_calls = int(httpx.get(f"{sink}/count", timeout=5).text) - calls_before
                measured = asyncio.run(sent_messages(database_url, MEASURED))
                warm = asyncio.run(sent_messages(database_url, WARMUP))
                if not measured:
                    raise RuntimeError(f"(b) sent nothing: {b.summary()}")
                worker_argv = [sys.executable, "-m", "hub", "worker"]
                with process(worker_argv, env, logs / "worker.log") as worker:
                    progress(f"(c) signed webhooks: {args.warmup:g} s warm-up + {args.seconds:g} s")
                    c, (cpu_c, cpu_worker) = phase(
                        base + provisioned.inbound_path,
                        args.rate,
                        args.seconds,
                        args.warmup,
                        (
                            webhook_requests(signer, measured, MEASURED),
                            webhook_requests(signer, warm or measured, WARMUP),
                        ),
                        [pid, worker.pid],
                    )
                    load_ended = time.perf_counter()
                    progress(f"waiting up to {DRAIN_SECONDS:g} s for the worker to drain")
                    after = asyncio.run(delivered_outcome(database_url, load_ended))
                    if worker.poll() is not None:
                        raise RuntimeError(
                            f"the worker exited:\n{(logs / 'worker.log').read_text()}"
                        )
    except BaseException:
        progress(f"failed: the processes' logs are in {logs}")
        raise
    finally:
        deleted = asyncio.run(clear_redis(redis_url, prefix))
        asyncio.run(drop_postgres_database(base_db, database_url))
    shutil.rmtree(logs, ignore_errors=True)

    accepted = b.ok_2xx
    print(
        f"bench.email {started:%Y-%m-%d %H:%M:%S} UTC, {os.cpu_count()} CPUs, "
        f"load average {load_start} -> {loadavg()}; rate {args.rate:g}/s for {args.seconds:g} s "
        f"per phase (warm-up {args.warmup:g} s each)"
    )
    print(
        "setup: HUB_ENV=development; 1 tenant, email connector provider=sendgrid (api_url "
        "-> loopback sink), guards and action limits off; 1 zapier integration, 1 REST "
        "hook on email.delivered -> the sink; 1 granian API process (+ 1 hub worker during (c))"
    )
    print(_line("a", "bare POST /bare", a, per_request_ms(cpu_a, a.sent)))
    print(_line("b", "POST /v1/actions/send_email", b, per_request_ms(cpu_b, b.sent)))
    print(
        _line("c", f"POST /v1/inbound/email/<id> x{BATCH} events", c, per_request_ms(cpu_c, c.sent))
        + f" worker_cpu_ms_per_request={per_request_ms(cpu_worker, c.sent)}"
    )
    for name, result in (("a", a), ("b", b), ("c", c)):
        print(f"({name}) p95 ms per {WINDOW_SECONDS:g} s: {result.p95_by_window(WINDOW_SECONDS)}")
    drained = (
        f"drained {after.drained_s:.1f} s after the load"
        if after.drained_s is not None
        else f"NOT drained {DRAIN_SECONDS:g} s after the load"
    )
    print(
        f"after (b): {accepted} sends accepted, {len(measured)} recorded sent; provider calls "
        f"{provider_calls} for {len(measured) + len(warm)} sends (warm-up included)"
    )
    print(
        f"after (c): email.delivered stored {after.events} ({after.distinct} distinct of "
        f"{c.ok_2xx * BATCH} accepted, duplicated {after.duplicated}); deliveries "
        f"{after.delivered}/{after.deliveries} delivered, {drained}; cleanup: database "
        f"dropped, {deleted} Redis keys deleted"
    )
    p95_a, p95_b, p95_c = a.p(0.95), b.p(0.95), c.p(0.95)
    checks = [
        ("p95(b)", f"{p95_b:.1f} ms <= {TARGET_P95_MS:g}", p95_b <= TARGET_P95_MS),
        ("p95(c)", f"{p95_c:.1f} ms <= {TARGET_P95_MS:g}", p95_c <= TARGET_P95_MS),
        ("5xx", f"{b.status_5xx + c.status_5xx} == 0", b.status_5xx + c.status_5xx == 0),
        (
            "one provider call per send",
            f"{provider_calls} calls / {len(measured) + len(warm)} sends",
            len(measured) == accepted == b.sent and provider_calls == len(measured) + len(warm),
        ),
        (
            "stored exactly once",
            f"{after.distinct}/{c.sent * BATCH}",
            after.distinct == after.events == c.sent * BATCH,
        ),
    ]
    verdict = "PASS" if all(ok for *_, ok in checks) else "MISS"
    print(
        "targets: "
        + "; ".join(f"{name} {what} {'PASS' if ok else 'MISS'}" for name, what, ok in checks)
        + f"; p95(b)/p95(a) = {p95_b / p95_a:.2f}x, p95(c)/p95(a) = {p95_c / p95_a:.2f}x "
        f"(informational) => {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
