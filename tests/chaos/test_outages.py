"""Chaos under traffic: a worker killed with SIGKILL, Redis killed and restarted empty,
Postgres down for ``OUTAGE_SECONDS``, one after the other, while a producer keeps
publishing through a real ``hub serve`` (granian) process.

On the hub's own Postgres cluster and Redis server (tests/chaos/instances.py), never
the machine's. What must hold (seed 003, Phase 6; docs/operations.md, runbooks):
- the API answers every request, in time: 202 or a 503 problem, never a 500, never a
  hang; it recovers by itself once Postgres is back (the same process, no restart);
- nothing it accepted (202) is lost: every accepted event is delivered;
- no delivery is sent again after its 2xx was recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from hub.app import build_hub, create_app
from hub.config import Settings, load_settings
from hub.delivery.models import Delivery
from hub.events.catalog import EVENT_TYPES
from hub.events.models import Event
from hub.store.engine import Database
from hub.store.migrate import upgrade
from tests.chaos import instances
from tests.conftest import BOOTSTRAP_TOKEN, Factory, bearer
from tests.delivery.support import Receiver, start_worker
from tests.support import databases
from tests.support.processes import free_port, hub_env, serving

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        databases.test_database_url() is None,
        reason="the outages are Postgres's and Redis's (HUB_TEST_DATABASE_URL names Postgres)",
    ),
    pytest.mark.skipif(instances.available() is not None, reason=str(instances.available())),
]

OUTAGE_SECONDS = float(os.environ.get("HUB_CHAOS_OUTAGE_SECONDS", "20"))
RATE = 20  # events per second
REQUEST_TIMEOUT = 10.0  # an answer later than this is a hang
DEADLINE = 120.0


@dataclass
class Answer:
    event_id: str
    sent_at: float
    status: int | str  # the HTTP status, or "timeout" / "transport"
    seconds: float
    code: str | None = None


@dataclass
class Producer:
    """Publishes ``RATE`` events a second, each its own request, and keeps every answer."""

    base_url: str
    api_key: str
    answers: list[Answer] = field(default_factory=list)
    _sent: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _inflight: set[asyncio.Task[None]] = field(default_factory=set)

    async def _one(self, client: httpx.AsyncClient, n: int) -> None:
        event_id = f"chaos-{n}"
        body = {"id": event_id, "type": "lead.created", "data": EVENT_TYPES["lead.created"].sample}
        started = time.monotonic()
        status: int | str
        code = None
        try:
            r = await client.post("/v1/events", json=body, headers=bearer(self.api_key))
            status = r.status_code
            if status >= 400 and r.headers.get("content-type", "").startswith("application/"):
                code = msgspec.json.decode(r.content).get("code")
        except httpx.TimeoutException:
            status = "timeout"
        except httpx.TransportError:
            status = "transport"
        self.answers.append(Answer(event_id, started, status, time.monotonic() - started, code))

    async def run(self) -> None:
        timeout = httpx.Timeout(REQUEST_TIMEOUT)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                task = asyncio.create_task(self._one(client, self._sent))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
                self._sent += 1
                next_at += 1 / RATE
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(0.0, next_at - time.monotonic()))
            if self._inflight:
                await asyncio.wait(self._inflight)

    async def more(self, n: int) -> None:
        """Wait until ``n`` more requests have been answered (traffic, not a clock)."""
        target = len(self.answers) + n
        await until(lambda: len(self.answers) >= target, f"{n} more answers")

    def stop(self) -> None:
        self._stop.set()

    def accepted(self) -> list[str]:
        return [a.event_id for a in self.answers if a.status == 202]


async def until(condition, what: str, deadline: float = DEADLINE) -> None:  # type: ignore[no-untyped-def]
    ends = time.monotonic() + deadline
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > ends:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def own() -> AsyncIterator[tuple[instances.OwnPostgres, instances.OwnRedis]]:
    pg = instances.OwnPostgres()
    redis = instances.OwnRedis()
    try:
        await asyncio.to_thread(pg.init)
        await asyncio.to_thread(pg.start)
        await pg.create_database()
        await redis.start()
        yield pg, redis
    finally:
        await redis.kill()
        await asyncio.to_thread(pg.remove)


def chaos_settings(pg: instances.OwnPostgres, redis: instances.OwnRedis, tmp: Path) -> Settings:
    return load_settings(
        {
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": pg.url,
            "HUB_REDIS_URL": redis.url,
            "HUB_REDIS_PREFIX": f"chaos:{uuid.uuid4().hex[:8]}:",
            "HUB_SECRET_KEYS": Fernet.generate_key().decode(),
            "HUB_BOOTSTRAP_ADMIN_TOKEN": BOOTSTRAP_TOKEN,
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_STATE_DIR": str(tmp / "state"),
            "HUB_LOG_LEVEL": "WARNING",
        }
    )


async def provision(settings: Settings, target_url: str) -> str:
    """A tenant, an integration that publishes and subscribes, one hook: its API key."""
    db = Database(settings.database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    hub = await build_hub(settings)
    await hub.start()
    try:
        transport = httpx.ASGITransport(app=create_app(settings, hub=hub))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            factory = Factory(client, {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"})
            integration = await factory.integration(
                scopes=["events:publish", "triggers:*"], kind="partner"
            )
            key = str(integration["api_key"])
            r = await client.post(
                "/v1/hooks",
                json={"event": "lead.created", "target_url": target_url},
                headers=bearer(key),
            )
            assert r.status_code == 201, r.text
            return key
    finally:
        await hub.close()


async def delivered(settings: Settings) -> dict[str, tuple[str, float | None]]:
    """Every delivery by event producer id: (status, delivered_at as a timestamp)."""
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(
                        Event.producer_id, Delivery.id, Delivery.status, Delivery.delivered_at
                    ).join(Delivery, Delivery.event_id == Event.id)
                )
            ).all()
    finally:
        await db.dispose()
    return {
        producer_id: (f"{delivery_id}:{status}", at.timestamp() if at else None)
        for producer_id, delivery_id, status, at in rows
    }


async def count_delivered(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            n = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")
            )
    except OSError:
        return -1
    finally:
        await db.dispose()
    return int(n or 0)


async def test_kill_9_redis_restart_and_a_postgres_outage_lose_nothing_accepted(
    own: tuple[instances.OwnPostgres, instances.OwnRedis], tmp_path: Path
) -> None:
    pg, redis = own
    settings = chaos_settings(pg, redis, tmp_path)
    receiver = Receiver()
    await receiver.start()
    env = hub_env(
        settings,
        HUB_DELIVERY_TIMEOUT="2",
        HUB_DELIVERY_LEASE_SECONDS="8",
        HUB_DELIVERY_SWEEP_SECONDS="2",
    )
    workers: list[asyncio.subprocess.Process] = []
    try:
        api_key = await provision(settings, receiver.url)
        port = free_port()
        argv = [sys.executable, "-m", "hub", "serve", "--host", "127.0.0.1", "--port", str(port)]
        async with serving(argv, env=env, port=port, log=tmp_path / "api.log") as base_url:
            workers.append(await start_worker(env))
            producer = Producer(base_url, api_key)
            running = asyncio.create_task(producer.run())

            await until(lambda: len(receiver.received) >= 20, "the first deliveries")
            workers[0].send_signal(signal.SIGKILL)  # mid-batch, leases left behind
            await workers[0].wait()
            workers.append(await start_worker(env))
            await producer.more(2 * RATE)

            await redis.kill()  # the queue, ready lanes, limits and breakers: gone
            await producer.more(RATE)
            await redis.start()  # empty
            await producer.more(2 * RATE)

            before_outage = len(producer.answers)
            await asyncio.to_thread(pg.stop)
            outage_started = time.monotonic()
            async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as probe:
                readyz = await probe.get("/readyz")
            # The outage itself is the scenario: it lasts OUTAGE_SECONDS of real time.
            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
            await asyncio.to_thread(pg.start)
            restarted = time.monotonic()
            during = [a for a in producer.answers[before_outage:] if a.sent_at < restarted]

            async def accepting_again() -> bool:
                return any(a.status == 202 and a.sent_at > restarted for a in producer.answers)

            await until(accepting_again, "the API to accept events again", deadline=60)
            recovered_after = (
                min(
                    a.sent_at for a in producer.answers if a.status == 202 and a.sent_at > restarted
                )
                - restarted
            )
            await producer.more(2 * RATE)
            producer.stop()
            await running

            accepted = producer.accepted()

            async def all_delivered() -> bool:
                return await count_delivered(settings) >= len(accepted)

            try:
                await until(all_delivered, "every accepted event to be delivered")
            except AssertionError:
                states = {k: v[0].split(":")[1] for k, v in (await delivered(settings)).items()}
                tally: dict[str, int] = {}
                for state in states.values():
                    tally[state] = tally.get(state, 0) + 1
                alive = [w.returncode for w in workers]
                logs = []
                for w in workers[1:]:
                    if w.returncode is not None and w.stderr is not None:
                        logs.append((await w.stderr.read())[-3000:].decode(errors="replace"))
                raise AssertionError(
                    f"{len(accepted)} accepted, deliveries {tally}, workers {alive}: {logs}"
                ) from None
            async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as probe:
                assert (await probe.get("/readyz")).status_code == 200  # the same process

        statuses: dict[int | str, int] = {}
        for answer in producer.answers:
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
        slowest = max(a.seconds for a in producer.answers)
        print(
            f"answers {statuses}; outage {OUTAGE_SECONDS:.0f} s: {len(during)} answered during it, "
            f"accepting again {recovered_after:.2f} s after Postgres restarted; slowest "
            f"answer {slowest:.2f} s; receiver got {len(receiver.received)} for "
            f"{len(accepted)} accepted"
        )
        # Every request answered in time, with 202 or a 503 problem: no 500, no hang.
        assert set(statuses) <= {202, 503}, statuses
        assert slowest < REQUEST_TIMEOUT
        assert all(a.code == "UNAVAILABLE" for a in producer.answers if a.status == 503)
        assert during, "no request was answered during the outage"
        assert any(a.status == 503 for a in during), "the outage was never seen"
        assert readyz.status_code == 503
        assert recovered_after < 30

        # Nothing accepted is lost; nothing is sent after its 2xx was recorded.
        rows = await delivered(settings)
        assert set(accepted) <= set(rows), set(accepted) - set(rows)
        recorded: dict[str, float] = {}
        for producer_id in accepted:
            key, at = rows[producer_id]
            delivery_id, status = key.split(":")
            assert status == "delivered", (producer_id, status)
            assert at is not None
            recorded[delivery_id] = at
        arrived = {got.webhook_id for got in receiver.received}
        assert set(recorded) <= arrived
        for got in receiver.received:
            if got.webhook_id in recorded:
                assert got.at <= recorded[got.webhook_id] + 0.05, got.webhook_id
        for worker in workers[1:]:
            assert worker.returncode is None, "a worker died in the outage"
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(worker.wait(), 30)
                except TimeoutError:
                    worker.kill()
                    await worker.wait()
        await receiver.stop()
