"""One store seam per hot path, and the one place that picks an implementation.

Each hot store operation is a small interface (a ``Protocol`` in its module, typed
rows in and out) with two implementations:

- Postgres: the statement on the pooled connection's asyncpg driver, one round trip
  (``driver.py``), or a Postgres-only clause (``SKIP LOCKED``);
- portable: SQLAlchemy Core that runs on every supported database (SQLite, and
  Postgres too: the contract tests run it there).

``build_stores`` chooses once, by backend, when the runtime is built; capability
code calls ``rt.stores.<seam>`` and never asks which database it runs on. Only
``hub/store`` looks at the backend.

| seam | module | operation |
|---|---|---|
| ``principals`` | ``principals.py`` | an API key's row with its integration and tenant |
| ``idempotency`` | ``idempotency.py`` | claim-or-read a key; store its answer (+ execution) |
| ``outbox`` | ``outbox.py`` | one event and its deliveries, deduplicated per producer id |
| ``lanes`` | ``lanes.py`` | the lanes of fresh deliveries and when each is first due |
| ``lane_claims`` | ``lanes.py`` | lease a lane's due rows |
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.store.engine import Database
from hub.store.idempotency import (
    IdempotencyRecords,
    PgIdempotencyRecords,
    PortableIdempotencyRecords,
)
from hub.store.lanes import (
    PG_LANE_CLAIMS,
    PORTABLE_LANE_CLAIMS,
    LaneClaims,
    LaneIndex,
    PgLaneIndex,
    PortableLaneIndex,
)
from hub.store.outbox import EventOutbox, PgOutbox, PortableOutbox
from hub.store.principals import PgPrincipals, PortablePrincipals, PrincipalLookup


@dataclass(frozen=True, slots=True)
class Stores:
    """One implementation of each seam, all for the same database."""

    principals: PrincipalLookup
    idempotency: IdempotencyRecords
    outbox: EventOutbox
    lanes: LaneIndex
    lane_claims: LaneClaims


def portable_stores(db: Database) -> Stores:
    """SQLAlchemy Core throughout: any supported database."""
    return Stores(
        principals=PortablePrincipals(db),
        idempotency=PortableIdempotencyRecords(db),
        outbox=PortableOutbox(db),
        lanes=PortableLaneIndex(db),
        lane_claims=PORTABLE_LANE_CLAIMS,
    )


def postgres_stores(db: Database) -> Stores:
    """The Postgres fast paths (asyncpg driver, ``SKIP LOCKED``): Postgres only."""
    return Stores(
        principals=PgPrincipals(db),
        idempotency=PgIdempotencyRecords(db),
        outbox=PgOutbox(db),
        lanes=PgLaneIndex(db),
        lane_claims=PG_LANE_CLAIMS,
    )


def build_stores(db: Database) -> Stores:
    """The fastest implementations ``db``'s backend supports."""
    return portable_stores(db) if db.is_sqlite else postgres_stores(db)
