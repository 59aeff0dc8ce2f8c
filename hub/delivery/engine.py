"""The delivery engine: one pump round claims due lanes, sends, records.

A pump (one arq job, ``delivery_pump``) repeats, while lanes are due:
1. takes up to ``LANES_PER_ROUND`` due lanes and, per lane, asks the breaker,
   the endpoint's rate and the tenant's quota how many it may send now;
2. claims that many rows with a lease, wakes another pump if work remains (so
   batches overlap across job slots and worker processes);
3. sends them concurrently over the shared HTTP client (``delivery_concurrency``
   at a time per process);
4. records each lane's outcomes in one transaction, then feeds the breaker and
   re-marks lanes for their retries.

Batches of up to ``delivery_batch_size`` deliveries per lane, many per job,
never a job per HTTP request: that is what lets a worker go faster than arq's
own job rate. Throttled and breaker-held lanes are re-marked for later without touching
their rows, so they consume no attempt and cost other tenants nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.delivery import lanes as lane_store
from hub.delivery import metrics, ready
from hub.delivery.breaker import Breaker, BreakerPolicy, Tally
from hub.delivery.lanes import ClaimedRow, Lane
from hub.delivery.models import Delivery
from hub.delivery.outcomes import Observed, decide, kind_of
from hub.delivery.pacing import endpoint_limit, quota_limit, take
from hub.delivery.recording import Outcome, write_outcomes
from hub.delivery.sender import Sender, SendResult, check_target
from hub.limits.gcra import RateLimiter

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger("hub.delivery")

LANES_PER_ROUND = 16
# One pump job keeps claiming while lanes are due, for at most this long.
PUMP_SECONDS = 20.0
# While batches are on the wire, look for newly due lanes this often.
RECHECK_SECONDS = 0.05
# How long a lane's subscription, tenant settings and secrets are reused. A rate
# change or a new secret takes effect within it; status changes are re-checked by
# every claim. (A rotation keeps the old secret signing for its grace period.)
LANE_CACHE_SECONDS = 2.0
# How often a lane held back by its rate comes back for the tokens it earned.
PACED_LANE_PERIOD = 0.25
# Errors that mean no request reached the receiver: they say nothing about its health.
_NOT_SENT = frozenset({"no_secret", "body_purged", "invalid_target", "target_blocked"})


@dataclass(slots=True)
class _Plan:
    lane: Lane
    granted: int
    probe: bool
    wait: float
    wanted: int
    limited_by: str  # which limit cut the batch: rate | quota


class DeliveryEngine:
    def __init__(
        self,
        rt: Runtime,
        *,
        breaker_policy: BreakerPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        settings = rt.settings
        self.rt = rt
        self.sender = Sender(settings)
        self.limiter = RateLimiter(rt.redis)
        self.breaker = Breaker(rt.redis, rt.keys, breaker_policy)
        self.batch_size = max(1, settings.delivery_batch_size)
        # Claimed rows wait for a connection slot while earlier ones are recorded.
        self.max_inflight = 4 * max(1, settings.delivery_concurrency)
        self._refill = max(1, min(self.batch_size, self.max_inflight // 4))
        self._room = asyncio.Event()
        self.inflight = 0
        self.draining = False
        self._sem = asyncio.Semaphore(max(1, settings.delivery_concurrency))
        self._pumps: set[asyncio.Task[int]] = set()
        self._lane_cache: dict[str, tuple[float, Lane]] = {}
        self._rng = rng
        self._claims = rt.stores.lane_claims  # the backend's claim (hub/store/lanes.py)
        self._timeout = settings.delivery_timeout_seconds
        self._lease = max(settings.delivery_lease_seconds, settings.delivery_timeout_seconds + 5)

    # -- driving -------------------------------------------------------------

    async def pump(self) -> int:
        """Pump while lanes are due (at most ``PUMP_SECONDS``); returns attempts made."""
        task = asyncio.get_running_loop().create_task(self._pump())
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # arq cancels running jobs on SIGTERM. The pump goes on: it claims
            # nothing new, releases what it has not sent, finishes the requests on
            # the wire and records them; ``aclose`` (when the worker's runtime
            # closes) waits for it.
            self.draining = True
            raise

    async def run_until_idle(self, max_pumps: int = 10_000) -> int:
        """Pump until no lane is due at ``rt.clock.now()`` (tests, benchmarks)."""
        attempts = 0
        for _ in range(max_pumps):
            attempts += await self.pump()
            if not await ready.has_work(self.rt, self.rt.clock.now()):
                break
        return attempts

    async def aclose(self) -> None:
        self.draining = True
        if self._pumps:
            await asyncio.wait(set(self._pumps), timeout=self._timeout + 10)
        await self.sender.aclose()

    async def _pump(self) -> int:
        """Claim a batch whenever there is room and a lane is due; send and record
        each lane's batch in its own task, so claiming, sending and recording overlap.

        One arq job runs many batches: arq picks up new jobs only every poll
        interval, so a job per batch would cap the engine at a few batches a second.
        """
        rt = self.rt
        await ready.clear_wake(rt)
        clock = asyncio.get_running_loop()
        deadline = clock.time() + PUMP_SECONDS
        running: set[asyncio.Task[int]] = set()
        attempts = 0
        try:
            while True:
                if not self.draining and clock.time() < deadline:
                    started = await self._claim_round()
                    if started:
                        running.update(started)
                        continue
                if not running:
                    break
                waiting: set[asyncio.Future[Any]] = set(running)
                if self.max_inflight - self.inflight < self._refill:
                    # Full: come back as soon as enough sends finished, not when a
                    # whole lane's batch is recorded, so the pipeline never runs dry.
                    self._room.clear()
                    waiting.add(clock.create_task(self._room.wait()))
                done, _ = await asyncio.wait(
                    waiting, timeout=RECHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                for future in waiting - set(running):
                    future.cancel()
                finished = {t for t in running if t in done}
                running -= finished
                attempts += self._collect(finished)
        finally:
            # Even when claiming failed (say the database went away), what is on
            # the wire is finished and recorded before the pump ends.
            if running:
                await asyncio.wait(running)
                attempts += self._collect(running)
        await ready.schedule_next(rt, rt.clock.now())
        return attempts

    @staticmethod
    def _collect(done: set[asyncio.Task[int]]) -> int:
        attempts = 0
        for task in done:
            error = task.exception()
            if error is None:
                attempts += task.result()
            else:
                # The batch's leases expire and the sweeper hands its rows out again.
                log.error("delivery batch failed", exc_info=error)
        return attempts

    async def _claim_round(self) -> list[asyncio.Task[int]]:
        """Claim what the due lanes may send now; a task per lane sends and records it."""
        rt = self.rt
        now = rt.clock.now()
        room = self.max_inflight - self.inflight
        if room <= 0:
            return []
        due = await ready.pop_due(rt, now, LANES_PER_ROUND)
        if not due:
            return []
        token = uuid.uuid4().hex
        lease_until = now + timedelta(seconds=self._lease)
        batch = await self._claim(due, now, room, token, lease_until)
        self.inflight += len(batch)
        if self.inflight >= self.max_inflight:
            # This process is full: if more is due, another worker may take it.
            await ready.schedule_next(rt, now)
        by_lane: dict[str, list[tuple[ClaimedRow, Lane]]] = {}
        for row, lane in batch:
            by_lane.setdefault(lane.subscription_id, []).append((row, lane))
        # Each lane records as soon as its own requests are done: a slow receiver
        # must not hold back another lane's outcomes.
        loop = asyncio.get_running_loop()
        return [
            loop.create_task(self._send_and_record(rows, lease_until, token))
            for rows in by_lane.values()
        ]

    async def _send_and_record(
        self, rows: list[tuple[ClaimedRow, Lane]], lease_until: datetime, token: str
    ) -> int:
        results = await self._send(rows, lease_until)
        return await self._record(rows, results, token)

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        async with self.rt.db.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def _lanes(self, conn: AsyncConnection, due: list[str], now: datetime) -> dict[str, Lane]:
        """Lanes from a cache of ``LANE_CACHE_SECONDS`` (the claim re-checks the status)."""
        clock = time.monotonic()
        found = {s: hit[1] for s in due if (hit := self._lane_cache.get(s)) and hit[0] > clock}
        missing = [s for s in due if s not in found]
        if missing:
            loaded = await lane_store.load_lanes(conn, missing, now, self.rt.vault)
            for sub_id, lane in loaded.items():
                lane.blocked = check_target(lane.target_url, self.rt.settings) or ""
                if lane.status == "active":  # anything else is looked up every time
                    self._lane_cache[sub_id] = (clock + LANE_CACHE_SECONDS, lane)
            found.update(loaded)
            if len(self._lane_cache) > 10_000:
                self._lane_cache = {k: v for k, v in self._lane_cache.items() if v[0] > clock}
        return found

    async def _claim(
        self, due: list[str], now: datetime, room: int, token: str, lease_until: datetime
    ) -> list[tuple[ClaimedRow, Lane]]:
        rt = self.rt
        async with self._autocommit() as conn:
            lanes = await self._lanes(conn, due, now)
            active = [s for s in due if s in lanes and lanes[s].status == "active"]
            backlogs = await lane_store.backlogs(conn, active, now, self.batch_size)
        remark: dict[str, datetime] = {}
        plans: list[_Plan] = []
        for sub_id in active:
            backlog = backlogs[sub_id]
            if backlog.due == 0:
                if backlog.next_at is not None:
                    remark[sub_id] = backlog.next_at
                continue
            if room <= 0:
                remark[sub_id] = now
                continue
            plan = await self._plan(lanes[sub_id], now, min(backlog.due, room), remark)
            if plan is not None:
                plans.append(plan)
                room -= plan.granted
        # Paused, disabled, or the tenant disabled: dropped from the ready set; the
        # sweeper re-marks them once they are active again. Deleted: cancelled.
        gone = [s for s in due if s in lanes and lanes[s].status == "deleted"]
        batch: list[tuple[ClaimedRow, Lane]] = []
        if gone:
            async with rt.db.transaction() as session:
                for sub_id in gone:
                    await lane_store.cancel_lane(session, sub_id, now)
        # Each claim is one atomic statement: no transaction around them to pay for.
        async with self._autocommit() as conn:
            for plan in plans:
                sub_id = plan.lane.subscription_id
                rows = await self._claims.claim(
                    conn,
                    sub_id,
                    now=now,
                    limit=plan.granted,
                    lease_until=lease_until,
                    token=token,
                )
                for row in rows:
                    row.probe = plan.probe
                    batch.append((row, plan.lane))
                backlog = backlogs[sub_id]
                if plan.granted < plan.wanted:
                    # A limit cut the batch: the rest waits for the next tokens. A
                    # paced lane comes back for a few at a time, not one per token:
                    # 4 rounds a second instead of 20 for a 20/s endpoint.
                    wait = plan.wait
                    if plan.limited_by == "rate":
                        rate = plan.lane.rate_per_second
                        tokens = min(plan.wanted - plan.granted, int(rate * PACED_LANE_PERIOD))
                        wait = max(wait, tokens / rate)
                    remark[sub_id] = now + timedelta(seconds=max(wait, 0.001))
                    metrics.THROTTLED.labels(plan.limited_by).inc()
                elif len(rows) < plan.granted:
                    # Another worker raced us, or the lane changed (paused, deleted)
                    # since it was cached: look again soon, with fresh eyes.
                    self._lane_cache.pop(sub_id, None)
                    remark[sub_id] = now + timedelta(seconds=1)
                elif plan.granted < backlog.due or backlog.due >= self.batch_size:
                    remark[sub_id] = now  # more is due than this round had room for
                elif backlog.next_at is not None:
                    remark[sub_id] = backlog.next_at
                if plan.probe and not rows:
                    await self.breaker.release_probe(sub_id)
        await ready.mark_ready(rt, remark)
        return batch

    async def _plan(
        self, lane: Lane, now: datetime, want: int, remark: dict[str, datetime]
    ) -> _Plan | None:
        """How many of the lane's deliveries may go now (None: defer the lane)."""
        rt = self.rt
        sub_id = lane.subscription_id
        gate, wait = await self.breaker.gate(sub_id, now)
        if gate == "open":
            remark[sub_id] = now + timedelta(seconds=max(wait, 0.001))
            metrics.THROTTLED.labels("breaker").inc()
            return None
        probe = gate == "probe"
        if probe:
            want = 1
        grant = await take(
            self.limiter,
            rt.keys.delivery_rate(sub_id),
            endpoint_limit(lane.rate_per_second),
            want,
            now,
        )
        reason = "rate"
        if grant.granted and lane.deliveries_per_minute is not None:
            quota = await take(
                self.limiter,
                rt.keys.rate_limit("deliveries", lane.tenant_id, "minute"),
                quota_limit(lane.deliveries_per_minute),
                grant.granted,
                now,
            )
            if quota.granted < grant.granted:
                reason = "quota"
            grant = type(grant)(quota.granted, max(grant.wait, quota.wait))
        if not grant.granted:
            remark[sub_id] = now + timedelta(seconds=grant.wait)
            metrics.THROTTLED.labels(reason).inc()
            if probe:
                await self.breaker.release_probe(sub_id)
            return None
        return _Plan(lane, grant.granted, probe, grant.wait, want, reason)

    async def _send(
        self, batch: list[tuple[ClaimedRow, Lane]], lease_until: datetime
    ) -> list[SendResult | None]:
        rt = self.rt
        # Start no request that could still be running when the lease ends.
        last_start = lease_until - timedelta(seconds=self._timeout + 1)

        async def one(row: ClaimedRow, lane: Lane) -> SendResult | None:
            try:
                async with self._sem:
                    now = rt.clock.now()
                    if self.draining or now >= last_start:
                        return None  # released for another worker
                    if row.body is None:
                        return SendResult(Observed(None, "body_purged"), now, 0)
                    if not lane.secrets:
                        return SendResult(Observed(None, "no_secret"), now, 0)
                    return await self._attempt(row, lane, row.body, now)
            finally:
                self.inflight -= 1
                if self.max_inflight - self.inflight >= self._refill:
                    self._room.set()

        return list(await asyncio.gather(*(one(row, lane) for row, lane in batch)))

    async def _attempt(self, row: ClaimedRow, lane: Lane, body: bytes, now: datetime) -> SendResult:
        """One HTTP attempt, traced as a child of the request that created the row."""
        with self.rt.tracing.span(
            "hub.delivery.attempt",
            parent=row.trace_parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "hub.delivery_id": row.id,
                "hub.subscription_id": row.subscription_id,
                "hub.event_type": row.event_type,
                "hub.attempt": row.attempt_count + 1,
                "hub.replay": row.replay_count,
            },
        ) as span:
            result = await self.sender.send(
                lane.target_url,
                secrets=lane.secrets,
                msg_id=row.id,
                body=body,
                now=now,
                blocked=lane.blocked,
            )
            if span is not None:
                observed = result.observed
                if observed.status_code is not None:
                    span.set_attribute("http.response.status_code", observed.status_code)
                if observed.error_class is not None:
                    span.set_attribute("error.type", observed.error_class)
                if kind_of(observed) != "delivered":
                    span.set_status(StatusCode.ERROR)
            return result

    async def _record(
        self,
        batch: list[tuple[ClaimedRow, Lane]],
        results: list[SendResult | None],
        token: str,
    ) -> int:
        rt = self.rt
        now = rt.clock.now()
        outcomes: list[Outcome] = []
        released: list[ClaimedRow] = []
        for (row, lane), result in zip(batch, results, strict=True):
            if result is None:
                released.append(row)
                continue
            verdict = decide(
                result.observed,
                attempt_number=row.attempt_count + 1,
                attempt_limit=row.attempt_limit,
                schedule=lane.schedule,
                now=now,
                rng=self._rng,
            )
            outcomes.append(Outcome(row, result, verdict))
        async with rt.db.transaction() as session:
            if outcomes:
                written = await write_outcomes(session, outcomes, token=token, now=now)
                if written.lost_lease:
                    log.warning(
                        "outcomes dropped: lease expired and re-claimed",
                        extra={"count": written.lost_lease},
                    )
            if released:
                await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.id.in_([r.id for r in released]),
                        Delivery.lease_token == token,
                    )
                    .values(lease_until=None, lease_token=None)
                    .execution_options(synchronize_session=False)
                )
        await self._after_commit(outcomes, released, now)
        return len(outcomes)

    async def _after_commit(
        self, outcomes: list[Outcome], released: list[ClaimedRow], now: datetime
    ) -> None:
        remark: dict[str, datetime] = {}
        for row in released:
            remark[row.subscription_id] = now
            metrics.DELIVERIES.labels("released").inc()
        tallies: dict[str, list[bool]] = {}
        probes: set[str] = set()
        for o in sorted(outcomes, key=lambda o: o.result.duration_ms):
            status = o.verdict.status
            sub_id = o.row.subscription_id
            metrics.DELIVERIES.labels("gone" if status == "cancelled" else status).inc()
            code = o.result.observed.status_code
            if code is not None or o.result.observed.error_class not in _NOT_SENT:
                metrics.ATTEMPT_DURATION.labels(metrics.result_label(code)).observe(
                    o.result.duration_ms / 1000.0
                )
                if status != "cancelled":
                    # The breaker asks "does the endpoint answer?": a 4xx is an
                    # answer (the receiver is up, it refused this one).
                    answered = kind_of(o.result.observed) in ("delivered", "permanent")
                    tallies.setdefault(sub_id, []).append(answered)
            if o.row.probe:
                probes.add(sub_id)
            if status == "delivered":
                latency = (now - o.row.event_received_at).total_seconds()
                metrics.INGEST_TO_DELIVERY.observe(max(0.0, latency))
            elif status == "retrying" and o.verdict.next_attempt_at is not None:
                when = o.verdict.next_attempt_at
                if sub_id not in remark or when < remark[sub_id]:
                    remark[sub_id] = when
        await ready.mark_ready(self.rt, remark)
        for sub_id, seen in tallies.items():
            await self.breaker.record(sub_id, Tally.of(seen), now, probe=sub_id in probes)
        for sub_id in probes - set(tallies):
            await self.breaker.release_probe(sub_id)
