"""Storage: migrations to head on both databases, aware UTC timestamps everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hub.runtime import Runtime
from hub.store.migrate import current_revision, head_revision
from hub.tenancy.models import Tenant


async def test_the_test_database_is_at_the_migration_head(rt: Runtime) -> None:
    assert await current_revision(rt.db) == head_revision()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=-3))),
        datetime(2030, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
async def test_timestamps_come_back_aware_utc_and_equal(rt: Runtime, moment: datetime) -> None:
    async with rt.db.transaction() as session:
        session.add(
            Tenant(
                id="ten_t",
                name="t",
                status="active",
                limits={},
                created_at=moment,
                updated_at=moment,
            )
        )
    async with rt.db.session() as session:
        stored = await session.scalar(select(Tenant.created_at).where(Tenant.id == "ten_t"))
        # Comparisons happen in the database too, on either backend.
        later = await session.scalar(
            select(Tenant.id).where(Tenant.created_at > moment - timedelta(microseconds=1))
        )
    assert stored is not None
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == moment
    assert later == "ten_t"


async def test_naive_timestamps_are_refused(rt: Runtime) -> None:
    now = datetime(2024, 1, 1)
    tenant = Tenant(
        id="ten_n", name="n", status="active", limits={}, created_at=now, updated_at=now
    )
    async with rt.db.session() as session:
        session.add(tenant)
        with pytest.raises(Exception, match="naive"):
            await session.flush()
