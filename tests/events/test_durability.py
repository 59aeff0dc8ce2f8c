"""Nothing is answered 202 unless it is durable: a failing database is a 5xx and
leaves nothing behind (fault injected with a trigger that fails mid-transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from hub.events.ingest import publish_internal
from hub.runtime import Runtime
from hub.web.errors import ProblemError
from tests.conftest import Factory
from tests.events.helpers import (
    all_deliveries,
    all_events,
    event,
    publish,
    publisher,
    subscribe,
    subscriber,
)


@pytest.fixture
async def failing_delivery_inserts(rt: Runtime) -> AsyncIterator[None]:
    """Every INSERT into deliveries fails: events are already inserted by then."""
    async with rt.db.engine.begin() as conn:
        if rt.db.is_sqlite:
            await conn.execute(
                text(
                    "CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION fail_deliveries() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'injected failure'; END; $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER fail_deliveries BEFORE INSERT ON deliveries "
                    "FOR EACH ROW EXECUTE FUNCTION fail_deliveries()"
                )
            )
    try:
        yield
    finally:
        async with rt.db.engine.begin() as conn:
            if rt.db.is_sqlite:
                await conn.execute(text("DROP TRIGGER fail_deliveries"))
            else:
                await conn.execute(text("DROP TRIGGER fail_deliveries ON deliveries"))
                await conn.execute(text("DROP FUNCTION fail_deliveries()"))


async def test_database_failure_mid_transaction_is_not_accepted(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime, failing_delivery_inserts: None
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    assert (
        await subscribe(client, (await subscriber(factory, tenant["id"]))["api_key"])
    ).is_success
    r = await publish(client, key, {"events": [event("e1"), event("e2")]})
    assert r.status_code == 503
    assert r.json()["code"] == "UNAVAILABLE"
    assert r.headers["retry-after"] == "1"
    assert await all_events(rt) == []
    assert await all_deliveries(rt) == []


async def test_retry_after_the_failure_is_accepted_once(
    client: httpx.AsyncClient, factory: Factory, rt: Runtime
) -> None:
    tenant = await factory.tenant()
    key = await publisher(factory, tenant["id"])
    assert (
        await subscribe(client, (await subscriber(factory, tenant["id"]))["api_key"])
    ).is_success
    batch = {"events": [event("e1"), event("e2")]}
    async with rt.db.engine.begin() as conn:  # the events insert itself fails this time
        if rt.db.is_sqlite:
            await conn.execute(
                text(
                    "CREATE TRIGGER fail_events BEFORE INSERT ON events "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
        else:
            await conn.execute(
                text("ALTER TABLE events ADD CONSTRAINT fail_events CHECK (false) NOT VALID")
            )
    try:
        assert (await publish(client, key, batch)).status_code == 503
    finally:
        async with rt.db.engine.begin() as conn:
            if rt.db.is_sqlite:
                await conn.execute(text("DROP TRIGGER fail_events"))
            else:
                await conn.execute(text("ALTER TABLE events DROP CONSTRAINT fail_events"))
    r = await publish(client, key, batch)
    assert r.status_code == 202
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert len(await all_deliveries(rt)) == 2


async def test_publish_internal_raises_instead_of_losing_the_event(
    factory: Factory, rt: Runtime, failing_delivery_inserts: None, client: httpx.AsyncClient
) -> None:
    tenant = await factory.tenant()
    zap = await subscriber(factory, tenant["id"])
    assert (await subscribe(client, zap["api_key"])).is_success
    with pytest.raises(ProblemError) as caught:
        await publish_internal(
            rt,
            tenant_id=tenant["id"],
            integration_id=zap["id"],
            event_type="lead.created",
            producer_id="p1",
            data=event("p1")["data"],
            sandbox=False,
        )
    assert caught.value.code == "UNAVAILABLE"
    assert await all_events(rt) == []
