"""``last_used_at`` is kept in memory and written in batches, not once per request."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy import select

from hub.clock import FrozenClock
from hub.runtime import Runtime
from hub.tenancy.models import ApiKey
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin


async def stored_last_used(rt: Runtime, key_id: str) -> datetime | None:
    async with rt.db.session() as session:
        return await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))


async def test_last_used_at_is_flushed_in_batches(
    rt: Runtime, client: httpx.AsyncClient, factory: Factory, admin: Admin, clock: FrozenClock
) -> None:
    integration = await factory.integration()
    key_id = integration["key_id"]
    for _ in range(3):
        clock.advance(5)
        assert (
            await client.get("/v1/me", headers=bearer(integration["api_key"]))
        ).status_code == 200
    last_use = clock.now()
    # No write per request: the row is untouched until the recorder flushes.
    assert await stored_last_used(rt, key_id) is None

    assert await rt.key_usage.flush(rt.db) == 1
    assert await stored_last_used(rt, key_id) == last_use
    keys = (await admin.get(f"/integrations/{integration['id']}")).json()["keys"]
    assert datetime.fromisoformat(keys[0]["last_used_at"]) == last_use

    # Nothing pending: a flush writes nothing.
    assert await rt.key_usage.flush(rt.db) == 0


async def test_a_late_flush_never_moves_last_used_at_back(
    rt: Runtime, factory: Factory, clock: FrozenClock
) -> None:
    integration = await factory.integration()
    key_id = integration["key_id"]
    earlier = clock.now()
    later = clock.advance(60)
    rt.key_usage.touch(key_id, later)
    await rt.key_usage.flush(rt.db)
    # Another process that saw an older use flushes after us.
    rt.key_usage.touch(key_id, earlier)
    await rt.key_usage.flush(rt.db)
    assert await stored_last_used(rt, key_id) == later
