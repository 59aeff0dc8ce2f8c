"""The outbox's lanes (a subscription's deliveries): when each is first due, and
claiming a lane's due rows.

- ``first_due``: on the hand-off hot path (every ingest, every sandbox action) the
  lanes of freshly committed deliveries are looked up; on Postgres one statement on
  the driver, as SQLAlchemy's statement layer would cost more than the query.
- ``claim``: a conditional UPDATE that sets a lease (time + token) on rows that are
  open (``OPEN_STATUSES``), due, and not leased by a live worker. On Postgres the
  candidates are picked ``FOR UPDATE SKIP LOCKED`` so concurrent workers take
  different rows; the outer WHERE re-checks the lease so a row is never claimed
  twice. SQLite has one writer at a time, so the statement without the row locks
  (the portable one) is already safe there. Both run on the caller's connection
  or session: the engine claims many lanes on one autocommit connection.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Integer, String, Update, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.delivery.models import Delivery
from hub.hooks.models import Subscription
from hub.store.base import UTCDateTime
from hub.store.driver import pg_driver
from hub.store.engine import Database

# The statuses of a delivery that may still be sent.
OPEN_STATUSES = ("pending", "retrying")

# An autocommit connection (the engine's claims) or a session's transaction.
Executor = AsyncConnection | AsyncSession


@dataclass(slots=True)
class ClaimedRow:
    id: str
    subscription_id: str
    tenant_id: str
    integration_id: str
    event_type: str
    body: bytes | None
    attempt_count: int
    attempt_limit: int | None
    replay_count: int
    event_received_at: datetime
    trace_parent: str | None = None  # the trace its attempts join (hub/tracing.py)
    probe: bool = False


class LaneIndex(Protocol):
    async def first_due(self, delivery_ids: Sequence[str]) -> dict[str, datetime]:
        """The subscriptions (lanes) of the open ones among ``delivery_ids`` and when
        each is first due."""
        ...


class LaneClaims(Protocol):
    async def claim(
        self,
        db: Executor,
        subscription_id: str,
        *,
        now: datetime,
        limit: int,
        lease_until: datetime,
        token: str,
    ) -> list[ClaimedRow]:
        """Lease up to ``limit`` of the lane's due, unleased open rows (only while
        its subscription is active) to ``token`` until ``lease_until``."""
        ...


# -- first due ----------------------------------------------------------------------

LOOKUP_CHUNK = 1000


class PortableLaneIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def first_due(self, delivery_ids: Sequence[str]) -> dict[str, datetime]:
        ids = list(delivery_ids)
        lanes: dict[str, datetime] = {}
        async with self.db.session() as session:
            for start in range(0, len(ids), LOOKUP_CHUNK):
                rows = await session.execute(
                    select(Delivery.subscription_id, func.min(Delivery.next_attempt_at))
                    .where(
                        Delivery.id.in_(ids[start : start + LOOKUP_CHUNK]),
                        Delivery.status.in_(OPEN_STATUSES),
                    )
                    .group_by(Delivery.subscription_id)
                )
                for sub_id, when in rows:
                    if sub_id not in lanes or when < lanes[sub_id]:
                        lanes[sub_id] = when
        return lanes


def _sql_strings(values: Sequence[str]) -> str:
    # Only module constants are formatted in; refuse anything needing quoting.
    assert all(v.isidentifier() for v in values), values
    return ", ".join(f"'{v}'" for v in values)


_FIRST_DUE_PG = (
    "SELECT subscription_id, min(next_attempt_at) FROM deliveries"  # noqa: S608
    f" WHERE id = ANY($1::varchar[]) AND status IN ({_sql_strings(OPEN_STATUSES)})"
    " GROUP BY subscription_id"
)


class PgLaneIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def first_due(self, delivery_ids: Sequence[str]) -> dict[str, datetime]:
        lanes: dict[str, datetime] = {}
        async with pg_driver(self.db) as conn:
            for sub_id, when in await conn.fetch(_FIRST_DUE_PG, list(delivery_ids)):
                lanes[sub_id] = when
        return lanes


# -- claims -------------------------------------------------------------------------

# The claim path runs many times a second: its statements are built once, with
# bound parameters, so SQLAlchemy's compiled cache serves them. ``hub.delivery.lanes``
# builds its backlog statement from the same parts.
SUB = bindparam("sub", type_=String)
NOW = bindparam("now", type_=UTCDateTime())
IS_OPEN = Delivery.status.in_(OPEN_STATUSES)
UNLEASED = or_(Delivery.lease_until.is_(None), Delivery.lease_until < NOW)


@functools.cache
def claim_statement(skip_locked: bool) -> Update:
    candidates = (
        select(Delivery.id)
        .where(Delivery.subscription_id == SUB, IS_OPEN, Delivery.next_attempt_at <= NOW, UNLEASED)
        .order_by(Delivery.next_attempt_at)
        .limit(bindparam("limit", type_=Integer))
    )
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, not ``IN (subquery)``: Postgres may run a semi-join's subquery more
    # than once, and with SKIP LOCKED each run picks other rows (claiming more
    # than ``limit``); a FOR UPDATE CTE is materialized exactly once.
    due = candidates.cte("due")
    return (
        update(Delivery)
        .where(
            Delivery.id.in_(select(due.c.id)),
            IS_OPEN,
            UNLEASED,
            # The lane's cached view may be a moment old: only an active
            # subscription's deliveries are ever claimed.
            exists().where(Subscription.id == SUB, Subscription.status == "active"),
        )
        .values(lease_until=bindparam("lease_until"), lease_token=bindparam("token"))
        .returning(
            Delivery.id,
            Delivery.subscription_id,
            Delivery.tenant_id,
            Delivery.integration_id,
            Delivery.event_type,
            Delivery.body,
            Delivery.attempt_count,
            Delivery.attempt_limit,
            Delivery.replay_count,
            Delivery.event_received_at,
            Delivery.trace_parent,
        )
    )


class _StatementClaims:
    """The claim UPDATE on the caller's executor; ``skip_locked`` picks the form."""

    skip_locked: bool

    async def claim(
        self,
        db: Executor,
        subscription_id: str,
        *,
        now: datetime,
        limit: int,
        lease_until: datetime,
        token: str,
    ) -> list[ClaimedRow]:
        result = await db.execute(
            claim_statement(self.skip_locked),
            {
                "sub": subscription_id,
                "now": now,
                "limit": limit,
                "lease_until": lease_until,
                "token": token,
            },
        )
        return [
            ClaimedRow(
                id=r[0],
                subscription_id=r[1],
                tenant_id=r[2],
                integration_id=r[3],
                event_type=r[4],
                body=r[5],
                attempt_count=r[6],
                attempt_limit=r[7],
                replay_count=r[8],
                event_received_at=r[9],
                trace_parent=r[10],
            )
            for r in result
        ]


class PortableLaneClaims(_StatementClaims):
    """No row locks: right where one writer runs at a time (SQLite); elsewhere still
    never claims a row twice (the outer WHERE re-checks), but concurrent workers may
    collide on the same candidates and claim fewer."""

    skip_locked = False


class PgLaneClaims(_StatementClaims):
    """Candidates ``FOR UPDATE SKIP LOCKED``: concurrent workers take different rows."""

    skip_locked = True


PORTABLE_LANE_CLAIMS = PortableLaneClaims()
PG_LANE_CLAIMS = PgLaneClaims()
