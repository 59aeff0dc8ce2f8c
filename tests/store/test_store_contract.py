"""The store seams' contract: the same cases against every implementation of each.

On Postgres both the Postgres implementations (asyncpg driver, SKIP LOCKED) and the
portable SQLAlchemy ones run (the portable ones must work there too); on SQLite the
portable ones. Real databases, rows written straight in; time is passed in, never
slept for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from hub.actions.models import Execution, IdempotencyRecord
from hub.actions.records import Answer, IdempotencyStore, InProgress, Owned, Replay, Reused
from hub.delivery.models import Delivery
from hub.events.models import Event
from hub.hooks.models import Subscription
from hub.ids import new_id
from hub.runtime import Runtime
from hub.store.idempotency import INSERTED, Completion, NewRecord, RecordRow
from hub.store.lanes import OPEN_STATUSES, ClaimedRow, PgLaneClaims, PortableLaneClaims
from hub.store.outbox import DeliveryRow, EventRow
from hub.store.principals import PgPrincipals, PortablePrincipals, PrincipalRow
from hub.store.seams import Stores, build_stores, portable_stores, postgres_stores
from hub.store.subscribers import Subscriber
from hub.tenancy.models import ApiKey, Integration, Tenant

LOCK = timedelta(seconds=30)
TTL = timedelta(hours=1)


@pytest.fixture(params=["postgres", "portable"])
def stores(request: pytest.FixtureRequest, rt: Runtime) -> Stores:
    if request.param == "postgres":
        if rt.db.is_sqlite:
            pytest.skip("the Postgres implementations need Postgres")
        return postgres_stores(rt.db)
    return portable_stores(rt.db)


def test_the_runtime_carries_the_backends_own_implementations(rt: Runtime) -> None:
    picked = build_stores(rt.db)
    postgres = not rt.db.is_sqlite
    assert isinstance(picked.principals, PgPrincipals if postgres else PortablePrincipals)
    assert isinstance(picked.lane_claims, PgLaneClaims if postgres else PortableLaneClaims)
    assert type(rt.stores.principals) is type(picked.principals)
    assert type(rt.stores.idempotency) is type(picked.idempotency)


# -- rows ---------------------------------------------------------------------------------


async def _tenant(rt: Runtime, *, status: str = "active") -> str:
    tenant_id = new_id("tenant")
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await session.execute(
            insert(Tenant).values(
                id=tenant_id,
                name="Acme",
                status=status,
                limits={"actions_per_minute": 7},
                created_at=now,
                updated_at=now,
            )
        )
    return tenant_id


async def _integration(
    rt: Runtime,
    tenant_id: str,
    *,
    mode: str = "live",
    status: str = "active",
    overrides: dict[str, Any] | None = None,
) -> str:
    integration_id = new_id("integration")
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await session.execute(
            insert(Integration).values(
                id=integration_id,
                tenant_id=tenant_id,
                name="Zap",
                kind="zapier",
                mode=mode,
                scopes=["actions:*", "triggers:*"],
                status=status,
                limits={"deliveries_per_minute": 3},
                policy_overrides=overrides or {},
                created_at=now,
                updated_at=now,
            )
        )
    return integration_id


async def _subscription(
    rt: Runtime,
    tenant_id: str,
    integration_id: str,
    *,
    status: str = "active",
    sandbox: bool = False,
    event_type: str = "lead.created",
) -> str:
    sub_id = new_id("subscription")
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await session.execute(
            insert(Subscription).values(
                id=sub_id,
                tenant_id=tenant_id,
                integration_id=integration_id,
                event_type=event_type,
                target_url=f"https://example.com/{sub_id}",
                status=status,
                sandbox=sandbox,
                created_at=now,
                updated_at=now,
            )
        )
    return sub_id


async def _delivery(
    rt: Runtime,
    tenant_id: str,
    integration_id: str,
    sub_id: str,
    *,
    due: datetime,
    status: str = "pending",
    lease_until: datetime | None = None,
) -> str:
    delivery_id = new_id("delivery")
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await session.execute(
            insert(Delivery).values(
                id=delivery_id,
                tenant_id=tenant_id,
                integration_id=integration_id,
                subscription_id=sub_id,
                event_id=new_id("event"),
                event_type="lead.created",
                body=b"{}",
                policy_version="lead.created@1",
                status=status,
                next_attempt_at=due,
                lease_until=lease_until,
                created_at=now,
                event_received_at=now,
            )
        )
    return delivery_id


async def _count(rt: Runtime, model: Any, *where: Any) -> int:
    async with rt.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


# -- principals ---------------------------------------------------------------------------


async def test_a_keys_principal_row_is_found_with_its_integration_and_tenant(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id = await _tenant(rt)
    integration_id = await _integration(rt, tenant_id, overrides={"lead.created": {"x": "drop"}})
    key_id, now = new_id("request"), rt.clock.now()
    async with rt.db.transaction() as session:
        await session.execute(
            insert(ApiKey).values(
                id=key_id,
                integration_id=integration_id,
                tenant_id=tenant_id,
                secret_hash=b"\x01" * 32,
                status="active",
                created_at=now,
                expires_at=now + timedelta(hours=2),
            )
        )

    row = await stores.principals.principal(key_id)

    assert row == PrincipalRow(
        key_id=key_id,
        secret_hash=b"\x01" * 32,
        key_status="active",
        expires_at=now + timedelta(hours=2),
        integration_id=integration_id,
        integration_name="Zap",
        kind="zapier",
        mode="live",
        scopes=["actions:*", "triggers:*"],
        integration_status="active",
        integration_limits={"deliveries_per_minute": 3},
        policy_overrides={"lead.created": {"x": "drop"}},
        tenant_id=tenant_id,
        tenant_name="Acme",
        tenant_status="active",
        tenant_limits={"actions_per_minute": 7},
    )
    assert row.expires_at is not None
    assert row.expires_at.utcoffset() == timedelta(0)


async def test_an_unknown_key_has_no_principal(rt: Runtime, stores: Stores) -> None:
    assert await stores.principals.principal("no_such_key") is None


# -- idempotency --------------------------------------------------------------------------


async def _key_holder(rt: Runtime) -> tuple[str, str]:
    tenant_id = await _tenant(rt)
    return tenant_id, await _integration(rt, tenant_id)


def _new(tenant_id: str, integration_id: str, now: datetime, fingerprint: str = "f1") -> NewRecord:
    return NewRecord(
        record_id=f"idem_{new_id('request')[4:]}",
        tenant_id=tenant_id,
        integration_id=integration_id,
        key="key-1",
        action="create_lead",
        fingerprint=fingerprint,
        execution_id=new_id("execution"),
        locked_until=now + LOCK,
        created_at=now,
        expires_at=now + TTL,
    )


def _rules(rt: Runtime, stores: Stores) -> IdempotencyStore:
    return IdempotencyStore(
        rt.db,
        lock_seconds=int(LOCK.total_seconds()),
        ttl_seconds=int(TTL.total_seconds()),
        records=stores.idempotency,
    )


def _execution(
    tenant_id: str, integration_id: str, execution_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": execution_id,
        "tenant_id": tenant_id,
        "integration_id": integration_id,
        "action": "create_lead",
        "mode": "sandbox",
        "handler": "sandbox",
        "status": "succeeded",
        "error_code": None,
        "http_status": 200,
        "idempotency_key": "key-1",
        "attempt": 1,
        "replay_count": 0,
        "correlation_id": "req-1",
        "started_at": now,
        "finished_at": now,
        "duration_ms": 3,
    }


async def test_a_new_key_is_claimed_and_then_read_as_running(rt: Runtime, stores: Stores) -> None:
    tenant_id, integration_id = await _key_holder(rt)
    now = rt.clock.now()
    first = _new(tenant_id, integration_id, now)

    assert await stores.idempotency.claim_or_read(first) is INSERTED
    again = await stores.idempotency.claim_or_read(_new(tenant_id, integration_id, now, "f2"))

    assert again == RecordRow(
        id=first.record_id,
        fingerprint="f1",
        state="running",
        attempt=1,
        locked_until=now + LOCK,
        expires_at=now + TTL,
        execution_id=first.execution_id,
        response_status=None,
        response_type=None,
        response_body=None,
    )
    assert await _count(rt, IdempotencyRecord) == 1


async def test_a_key_in_progress_is_not_claimed_twice(rt: Runtime, stores: Stores) -> None:
    tenant_id, integration_id = await _key_holder(rt)
    rules, now = _rules(rt, stores), rt.clock.now()
    claim = {"tenant_id": tenant_id, "integration_id": integration_id, "key": "key-1"}

    owned = await rules.claim(**claim, action="create_lead", fingerprint="f1", now=now)
    assert isinstance(owned, Owned)
    assert owned.fresh
    assert owned.attempt == 1

    later = now + LOCK - timedelta(seconds=1)
    busy = await rules.claim(**claim, action="create_lead", fingerprint="f1", now=later)
    other = await rules.claim(**claim, action="create_lead", fingerprint="f2", now=later)
    assert busy == InProgress(retry_after=1)
    assert other == Reused()


async def test_a_completed_key_is_read_back_with_its_answer(rt: Runtime, stores: Stores) -> None:
    tenant_id, integration_id = await _key_holder(rt)
    now = rt.clock.now()
    new = _new(tenant_id, integration_id, now)
    assert await stores.idempotency.claim_or_read(new) is INSERTED
    execution = _execution(tenant_id, integration_id, new.execution_id, now)

    kept = await stores.idempotency.complete(
        Completion(new.record_id, 1, 201, "application/json", b'{"ok":true}', new.execution_id),
        execution,
    )

    assert kept == 1
    row = await stores.idempotency.claim_or_read(_new(tenant_id, integration_id, now))
    assert isinstance(row, RecordRow)
    assert (row.state, row.locked_until, row.execution_id) == ("completed", None, new.execution_id)
    assert (row.response_status, row.response_type, row.response_body) == (
        201,
        "application/json",
        b'{"ok":true}',
    )
    assert await _count(rt, Execution, Execution.id == new.execution_id) == 1
    replay = await _rules(rt, stores).claim(
        tenant_id=tenant_id,
        integration_id=integration_id,
        key="key-1",
        action="create_lead",
        fingerprint="f1",
        now=now + timedelta(seconds=1),
    )
    assert replay == Replay(201, "application/json", b'{"ok":true}', new.execution_id, now + TTL)


async def test_a_lost_lock_stores_no_answer_but_keeps_the_execution(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id, integration_id = await _key_holder(rt)
    now = rt.clock.now()
    new = _new(tenant_id, integration_id, now)
    assert await stores.idempotency.claim_or_read(new) is INSERTED
    stale = Completion(new.record_id, 2, 200, "application/json", b"{}", new.execution_id)

    assert await stores.idempotency.complete(stale, None) == 0
    execution_id = new_id("execution")
    executed = _execution(tenant_id, integration_id, execution_id, now)
    assert await stores.idempotency.complete(stale, executed) == 0

    row = await stores.idempotency.claim_or_read(_new(tenant_id, integration_id, now))
    assert isinstance(row, RecordRow)
    assert row.state == "running"
    assert await _count(rt, Execution, Execution.id == execution_id) == 1


async def test_an_expired_lock_is_taken_over_and_an_expired_window_starts_over(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id, integration_id = await _key_holder(rt)
    rules, now = _rules(rt, stores), rt.clock.now()
    claim = {"tenant_id": tenant_id, "integration_id": integration_id, "key": "key-1"}
    first = await rules.claim(**claim, action="create_lead", fingerprint="f1", now=now)
    assert isinstance(first, Owned)

    crashed = now + LOCK + timedelta(seconds=1)  # the owner died holding the lock
    seen = await stores.idempotency.claim_or_read(_new(tenant_id, integration_id, crashed))
    assert isinstance(seen, RecordRow)
    assert seen.locked_until is not None
    assert seen.locked_until < crashed
    second = await rules.claim(**claim, action="create_lead", fingerprint="f1", now=crashed)
    assert isinstance(second, Owned)
    assert (second.record_id, second.attempt, second.fresh) == (first.record_id, 2, False)
    assert second.execution_id != first.execution_id
    # The first owner's late answer is refused (fencing); the second's is kept.
    assert not await rules.complete(first, Answer(200, "application/json", b"{}"), None)
    assert await rules.complete(second, Answer(200, "application/json", b"{}"), None)

    gone = now + TTL + timedelta(seconds=1)  # past the window: a new key altogether
    third = await rules.claim(**claim, action="create_lead", fingerprint="f2", now=gone)
    assert isinstance(third, Owned)
    assert third.fresh
    assert third.attempt == 1
    assert third.record_id != first.record_id
    assert await _count(rt, IdempotencyRecord) == 1


# -- the outbox ---------------------------------------------------------------------------


class _Fanout:
    """``deliveries_for``: one minimal row per subscriber (the rest takes defaults)."""

    def __init__(self, rt: Runtime, event: EventRow) -> None:
        self.rt, self.event = rt, event
        self.seen: list[Subscriber] = []

    def __call__(self, subscribers: Sequence[Subscriber]) -> Sequence[DeliveryRow]:
        self.seen.extend(subscribers)
        now = self.rt.clock.now()
        return [
            {
                "id": new_id("delivery"),
                "tenant_id": self.event.tenant_id,
                "integration_id": sub.integration_id,
                "subscription_id": sub.id,
                "event_id": self.event.id,
                "event_type": self.event.type,
                "body": f"body for {sub.id}".encode(),
                "policy_version": "lead.created@1",
                "next_attempt_at": now,
                "created_at": now,
                "event_received_at": now,
            }
            for sub in subscribers
        ]


def _event(rt: Runtime, tenant_id: str, publisher: str, producer_id: str) -> EventRow:
    now = rt.clock.now()
    return EventRow(
        id=new_id("event"),
        tenant_id=tenant_id,
        integration_id=publisher,
        producer_id=producer_id,
        type="lead.created",
        sandbox=False,
        occurred_at=now - timedelta(minutes=5),
        received_at=now,
        data={"lead_id": "lead_1", "nested": {"n": [1, 2.5, None, "x"]}},
    )


async def test_an_event_is_stored_with_a_delivery_per_matching_subscription_once(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id = await _tenant(rt)
    publisher = await _integration(rt, tenant_id)
    overrides = {"lead.created": {"contact": "drop"}}
    zaps = [await _integration(rt, tenant_id, overrides=overrides) for _ in range(2)]
    zap_of = {await _subscription(rt, tenant_id, zap): zap for zap in zaps}
    matching = sorted(zap_of)
    await _subscription(rt, tenant_id, zaps[0], status="paused")
    await _subscription(rt, tenant_id, zaps[0], sandbox=True)
    await _subscription(rt, tenant_id, zaps[0], event_type="lead.updated")
    await _subscription(rt, tenant_id, await _integration(rt, tenant_id, status="disabled"))
    event = _event(rt, tenant_id, publisher, "producer-1")
    fanout = _Fanout(rt, event)

    assert await stores.outbox.publish_one(event, fanout)

    # Given in id order, with their integration's policy overrides decoded.
    assert fanout.seen == [Subscriber(s, zap_of[s], "lead.created", overrides) for s in matching]
    async with rt.db.session() as session:
        stored = (await session.execute(select(Event))).scalars().one()
        deliveries = (await session.execute(select(Delivery))).scalars().all()
    assert (stored.id, stored.producer_id, stored.data) == (event.id, "producer-1", event.data)
    assert (stored.occurred_at, stored.received_at) == (event.occurred_at, event.received_at)
    assert sorted(d.subscription_id for d in deliveries) == matching
    for d in deliveries:  # the columns left out took the model's defaults
        assert (d.status, d.attempt_count, d.replay_count, d.sandbox) == ("pending", 0, 0, False)
        assert d.body == f"body for {d.subscription_id}".encode()
        assert d.event_id == event.id

    # The same producer id again (another hub id): nothing more is stored.
    duplicate = event._replace(id=new_id("event"))
    assert not await stores.outbox.publish_one(duplicate, _Fanout(rt, duplicate))
    assert await _count(rt, Event) == 1
    assert await _count(rt, Delivery) == 2

    # Another producer id is another event, with its own deliveries.
    other = _event(rt, tenant_id, publisher, "producer-2")
    assert await stores.outbox.publish_one(other, _Fanout(rt, other))
    assert await _count(rt, Event) == 2
    assert await _count(rt, Delivery, Delivery.event_id == other.id) == 2


async def test_an_event_nobody_subscribes_to_is_stored_alone_once(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id = await _tenant(rt)
    publisher = await _integration(rt, tenant_id)
    event = _event(rt, tenant_id, publisher, "lonely")
    fanout = _Fanout(rt, event)

    assert await stores.outbox.publish_one(event, fanout)
    assert not await stores.outbox.publish_one(event._replace(id=new_id("event")), fanout)

    assert fanout.seen == []
    assert await _count(rt, Event) == 1
    assert await _count(rt, Delivery) == 0


async def test_subscribers_whose_deliveries_are_all_withheld_still_store_the_event(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id = await _tenant(rt)
    publisher = await _integration(rt, tenant_id)
    await _subscription(rt, tenant_id, await _integration(rt, tenant_id))
    event = _event(rt, tenant_id, publisher, "withheld")

    assert await stores.outbox.publish_one(event, lambda subscribers: [])
    assert await _count(rt, Event) == 1
    assert await _count(rt, Delivery) == 0


# -- lanes --------------------------------------------------------------------------------


async def test_lanes_are_looked_up_from_their_open_deliveries_only(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id = await _tenant(rt)
    zap = await _integration(rt, tenant_id)
    a, b, c, d = [await _subscription(rt, tenant_id, zap, event_type=f"t{i}") for i in range(4)]
    t = rt.clock.now()
    ids = [
        await _delivery(rt, tenant_id, zap, a, due=t + timedelta(seconds=5)),
        await _delivery(rt, tenant_id, zap, a, due=t + timedelta(seconds=2), status="retrying"),
        await _delivery(rt, tenant_id, zap, a, due=t - timedelta(seconds=9), status="delivered"),
        await _delivery(rt, tenant_id, zap, b, due=t - timedelta(seconds=9), status="dead"),
        await _delivery(rt, tenant_id, zap, c, due=t - timedelta(seconds=9), status="cancelled"),
        await _delivery(rt, tenant_id, zap, c, due=t + timedelta(seconds=1)),
    ]
    await _delivery(rt, tenant_id, zap, d, due=t)  # open, but not asked about
    assert set(OPEN_STATUSES) == {"pending", "retrying"}

    # Asked among many unknown ids (the portable lookup goes in chunks).
    padded = [ids[0], *(f"dlv_missing_{n}" for n in range(1500)), *ids[1:]]
    lanes = await stores.lanes.first_due(padded)

    assert lanes == {a: t + timedelta(seconds=2), c: t + timedelta(seconds=1)}
    assert all(when.utcoffset() == timedelta(0) for when in lanes.values())
    assert await stores.lanes.first_due([]) == {}


async def _claim(
    rt: Runtime, stores: Stores, sub_id: str, now: datetime, limit: int, token: str
) -> list[ClaimedRow]:
    async with rt.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return await stores.lane_claims.claim(
            conn, sub_id, now=now, limit=limit, lease_until=now + LOCK, token=token
        )


async def test_a_lane_claim_leases_its_due_open_unleased_rows_oldest_first(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id = await _tenant(rt)
    zap = await _integration(rt, tenant_id)
    sub = await _subscription(rt, tenant_id, zap)
    t = rt.clock.now()
    oldest = await _delivery(rt, tenant_id, zap, sub, due=t - timedelta(seconds=3))
    older = await _delivery(
        rt, tenant_id, zap, sub, due=t - timedelta(seconds=2), status="retrying"
    )
    old = await _delivery(rt, tenant_id, zap, sub, due=t - timedelta(seconds=1))
    await _delivery(rt, tenant_id, zap, sub, due=t + timedelta(seconds=60))  # not due
    await _delivery(rt, tenant_id, zap, sub, due=t - timedelta(seconds=9), status="delivered")
    leased = await _delivery(
        rt, tenant_id, zap, sub, due=t - timedelta(seconds=9), lease_until=t + timedelta(seconds=5)
    )

    first = await _claim(rt, stores, sub, t, 2, "w1")  # the two due first
    assert sorted(r.id for r in first) == sorted([oldest, older])
    row = next(r for r in first if r.id == oldest)
    assert (row.subscription_id, row.tenant_id, row.integration_id) == (sub, tenant_id, zap)
    assert (row.event_type, row.body, row.attempt_count, row.attempt_limit) == (
        "lead.created",
        b"{}",
        0,
        None,
    )
    assert (row.replay_count, row.probe) == (0, False)
    assert row.event_received_at == t

    assert [r.id for r in await _claim(rt, stores, sub, t, 10, "w2")] == [old]
    assert await _claim(rt, stores, sub, t, 10, "w3") == []
    async with rt.db.session() as session:
        tokens = dict((await session.execute(select(Delivery.id, Delivery.lease_token))).all())
    assert (tokens[oldest], tokens[older], tokens[old], tokens[leased]) == ("w1", "w1", "w2", None)

    # Leases run out: everything due is claimable again, the live lease's row included.
    later = t + LOCK + timedelta(seconds=1)
    again = await _claim(rt, stores, sub, later, 10, "w4")
    assert sorted(r.id for r in again) == sorted([oldest, older, old, leased])


async def test_a_lane_whose_subscription_is_not_active_claims_nothing(
    rt: Runtime, stores: Stores
) -> None:
    tenant_id = await _tenant(rt)
    zap = await _integration(rt, tenant_id)
    sub = await _subscription(rt, tenant_id, zap, status="paused")
    t = rt.clock.now()
    await _delivery(rt, tenant_id, zap, sub, due=t - timedelta(seconds=1))

    assert await _claim(rt, stores, sub, t, 10, "w1") == []


async def test_a_lane_claim_runs_in_the_callers_session(rt: Runtime, stores: Stores) -> None:
    """As a worker holding its own transaction claims (tests/delivery/test_crash_safety.py).

    Only the committed outcome is the contract: pysqlite opens no transaction before
    a statement starting with ``WITH``, so on SQLite the claim commits on its own.
    """
    tenant_id = await _tenant(rt)
    zap = await _integration(rt, tenant_id)
    sub = await _subscription(rt, tenant_id, zap)
    t = rt.clock.now()
    due = await _delivery(rt, tenant_id, zap, sub, due=t - timedelta(seconds=1))

    async with rt.db.transaction() as session:
        claimed = await stores.lane_claims.claim(
            session, sub, now=t, limit=10, lease_until=t + LOCK, token="w1"
        )
    assert [r.id for r in claimed] == [due]
    assert await _claim(rt, stores, sub, t, 10, "w2") == []
    async with rt.db.session() as session:
        assert await session.scalar(select(Delivery.lease_token)) == "w1"


async def test_concurrent_postgres_claims_skip_each_others_rows(rt: Runtime) -> None:
    if rt.db.is_sqlite:
        pytest.skip("row locks are Postgres'")
    claims = postgres_stores(rt.db).lane_claims
    tenant_id = await _tenant(rt)
    zap = await _integration(rt, tenant_id)
    sub = await _subscription(rt, tenant_id, zap)
    t = rt.clock.now()
    ids = {await _delivery(rt, tenant_id, zap, sub, due=t - timedelta(seconds=n)) for n in range(4)}

    async with rt.db.transaction() as holding:  # a worker mid-claim holds its rows locked
        mine = await claims.claim(holding, sub, now=t, limit=2, lease_until=t + LOCK, token="w1")
        async with rt.db.transaction() as other:
            theirs = await asyncio.wait_for(
                claims.claim(other, sub, now=t, limit=4, lease_until=t + LOCK, token="w2"), 10
            )
    assert len(mine) == 2
    assert len(theirs) == 2
    assert {r.id for r in mine} | {r.id for r in theirs} == ids
