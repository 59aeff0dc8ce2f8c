"""Inserting events exactly once per (tenant, producer id), on either database.

The unique constraint ``uq_events_tenant_producer`` is the deduplication, so two
concurrent requests carrying the same producer id cannot both insert it: the
second one's row is skipped (``ON CONFLICT DO NOTHING`` on Postgres, the same
clause on SQLite, which spells ``INSERT OR IGNORE`` this way since 3.24).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.models import Event

_TABLE = cast(Table, Event.__table__)
_UNIQUE = ["tenant_id", "producer_id"]


def _insert_ignoring_duplicates(dialect: str) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=_UNIQUE)
    if dialect == "sqlite":
        return sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=_UNIQUE)
    raise RuntimeError(f"unsupported database dialect {dialect}")


async def insert_new_events(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert ``rows``; return the ids actually inserted (the others were duplicates)."""
    if not rows:
        return set()
    stmt = _insert_ignoring_duplicates(session.get_bind().dialect.name).returning(_TABLE.c.id)
    result = await session.execute(stmt, rows)
    return set(result.scalars())
