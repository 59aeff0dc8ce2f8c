"""A single event and its outbox rows, stored atomically (``publish_internal``'s store).

The event is inserted once per (tenant, producer id): a second publish of the same
producer id stores nothing and answers False. When it is new, the subscriptions
matching it (``subscribers.SUBSCRIBERS_OF_TYPE``) are handed to the caller's
``deliveries_for``, which sanitizes a body per subscription (in Python: policies
are code) and builds their outbox rows (``hub/delivery/outbox.py``); the rows are
stored with the event. Nothing is cached: a subscription committed before the
publish starts is always seen.

- Portable: one transaction (insert, select subscriptions, insert deliveries).
- Postgres, one round trip, two when it fans out, on the pooled connection's driver
  (``driver.py``), autocommit:
  1. ``FIRST`` selects the matching subscriptions and inserts the event only if
     there are none: that is the whole publish when nobody subscribes (the common
     case for most types).
  2. Otherwise ``WITH_DELIVERIES`` inserts the event and its deliveries in one
     atomic statement; the deliveries only if the event was new.
  Column lists and their casts come from the models' tables; values are bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol, cast

import msgspec
from sqlalchemy import Table, insert
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from hub.delivery.models import Delivery
from hub.events.models import Event
from hub.hooks.models import Subscription
from hub.store.driver import PG_DIALECT, pg_compiled, pg_driver
from hub.store.engine import Database
from hub.store.events import insert_new_events
from hub.store.subscribers import SUBSCRIBERS_OF_TYPE, Subscriber

_EVENTS = cast(Table, Event.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)


class EventRow(NamedTuple):
    """An ``events`` row (``EVENT_COLUMNS``, in order)."""

    id: str
    tenant_id: str
    integration_id: str
    producer_id: str
    type: str
    sandbox: bool
    occurred_at: datetime
    received_at: datetime
    data: object  # JSON builtins (``msgspec.to_builtins`` of the type's data Struct)


EVENT_COLUMNS = EventRow._fields

# A ``deliveries`` row by column name (``hub.delivery.outbox``); omitted columns
# take the model's defaults on both paths.
DeliveryRow = Mapping[str, object]
# The outbox rows for the event's matching subscriptions (given in id order).
DeliveriesFor = Callable[[Sequence[Subscriber]], Sequence[DeliveryRow]]


class EventOutbox(Protocol):
    async def publish_one(self, event: EventRow, deliveries_for: DeliveriesFor) -> bool:
        """Store ``event`` and the rows ``deliveries_for`` builds, atomically; False
        (nothing stored, ``deliveries_for`` maybe called) for a duplicate producer id."""
        ...


# -- portable: one SQLAlchemy transaction ----------------------------------------------

_SUBSCRIBERS_IN_ORDER = SUBSCRIBERS_OF_TYPE.order_by(Subscription.id)


class PortableOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def publish_one(self, event: EventRow, deliveries_for: DeliveriesFor) -> bool:
        async with self.db.transaction() as session:
            if not await insert_new_events(session, [event._asdict()]):
                return False
            found = await session.execute(
                _SUBSCRIBERS_IN_ORDER,
                {"tenant_id": event.tenant_id, "sandbox": event.sandbox, "event_type": event.type},
            )
            subscribers = [Subscriber(*row) for row in found]
            rows = deliveries_for(subscribers) if subscribers else ()
            if rows:
                await session.execute(insert(_DELIVERIES), list(rows))
        return True


# -- Postgres: one or two statements on the driver --------------------------------------


def _sql_type(table: Table, column: str) -> str:
    return str(table.c[column].type.compile(dialect=PG_DIALECT))


def _event_values(first: int) -> str:
    return ", ".join(f"${first + i}::{_sql_type(_EVENTS, c)}" for i, c in enumerate(EVENT_COLUMNS))


_INSERT_EVENT = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)})"
_ON_CONFLICT = "ON CONFLICT (tenant_id, producer_id) DO NOTHING RETURNING id"
_SUBSCRIBERS = pg_compiled(SUBSCRIBERS_OF_TYPE)
# The subscriber query's parameters come first, the event's after them; the
# query's own literals ("active") are bound parameters of the compiled form.
_SUBSCRIBER_PARAMS = tuple(_SUBSCRIBERS.positiontup or ())
_SUBSCRIBER_LITERALS = {k: v for k, v in _SUBSCRIBERS.params.items() if v is not None}

# Subscribers, and the event inserted only when there are none. Only module
# constants are formatted into the statements.
FIRST = f"""
WITH subs AS ({_SUBSCRIBERS.string}),
ev AS (
  {_INSERT_EVENT}
  SELECT {_event_values(len(_SUBSCRIBER_PARAMS) + 1)}
  WHERE NOT EXISTS (SELECT 1 FROM subs)
  {_ON_CONFLICT}
)
SELECT true AS is_event, id, NULL::varchar AS integration_id, NULL::varchar AS event_type,
       NULL::jsonb AS policy_overrides
FROM ev
UNION ALL
SELECT false, id, integration_id, event_type, policy_overrides FROM subs
"""  # noqa: S608


def _with_deliveries(columns: tuple[str, ...]) -> str:
    first = len(EVENT_COLUMNS) + 1
    arrays = ", ".join(
        f"${first + i}::{_sql_type(_DELIVERIES, c)}[]" for i, c in enumerate(columns)
    )
    return f"""
WITH ev AS (
  {_INSERT_EVENT}
  VALUES ({_event_values(1)})
  {_ON_CONFLICT}
),
dl AS (
  INSERT INTO deliveries ({", ".join(columns)})
  SELECT * FROM unnest({arrays})
  WHERE EXISTS (SELECT 1 FROM ev)
)
SELECT id FROM ev
"""  # noqa: S608


_statements: dict[tuple[str, ...], str] = {}


def _defaults(table: Table) -> dict[str, object]:
    """Column defaults applied client-side by SQLAlchemy inserts (the portable path)."""
    found: dict[str, object] = {}
    for column in table.c:
        default = column.default
        if default is None:
            continue
        if not getattr(default, "is_scalar", False):
            raise RuntimeError(f"{table.name}.{column.name}: only scalar defaults are supported")
        found[column.name] = cast(ScalarElementColumnDefault, default).arg
    return found


_DELIVERY_DEFAULTS = _defaults(_DELIVERIES)


def _event_args(event: EventRow) -> list[object]:
    # JSONB takes JSON text (the engine's codec); the same JSON the portable path stores.
    data = event.data
    return [*event[:-1], None if data is None else msgspec.json.encode(data).decode()]


class PgOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def publish_one(self, event: EventRow, deliveries_for: DeliveriesFor) -> bool:
        params = {
            **_SUBSCRIBER_LITERALS,
            "tenant_id": event.tenant_id,
            "sandbox": event.sandbox,
            "event_type": event.type,
        }
        event_args = _event_args(event)
        async with pg_driver(self.db) as driver:
            found = await driver.fetch(
                FIRST, *(params[name] for name in _SUBSCRIBER_PARAMS), *event_args
            )
            subscribers = sorted(
                Subscriber(r["id"], r["integration_id"], r["event_type"], r["policy_overrides"])
                for r in found
                if not r["is_event"]
            )
            if not subscribers:
                return bool(found)
            rows = [{**_DELIVERY_DEFAULTS, **row} for row in deliveries_for(subscribers)]
            columns = tuple(rows[0]) if rows else ("id",)
            statement = _statements.get(columns)
            if statement is None:
                statement = _statements[columns] = _with_deliveries(columns)
            arrays = [[row[c] for row in rows] for c in columns]
            inserted = await driver.fetchval(statement, *event_args, *arrays)
        return inserted is not None
