"""Postgres fast path of a single-event publish: one round trip, two when it fans out.

The generic path (``ingest.store_events``) runs an ORM transaction: BEGIN, insert,
select subscriptions, insert deliveries, COMMIT. For one event on Postgres:

1. ``FIRST``: one statement selects the matching subscriptions (the same query as
   ``fanout._subscribers``) and inserts the event only if there are none. That is
   the whole publish when nobody subscribes (the common case for most types).
2. Otherwise the caller sanitizes a body per subscription (``fanout.delivery_rows``,
   in Python: policies are code) and ``WITH_DELIVERIES`` inserts the event and its
   deliveries in one atomic statement; the deliveries only if the event was new.

Both are autocommit statements on the pooled connection's driver
(``hub/store/driver.py``). Nothing is cached: a subscription committed before the
publish starts is always seen, exactly as in the generic path. Column lists and
their casts come from the models' tables; values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import msgspec
from sqlalchemy import Table

from hub.delivery.models import Delivery
from hub.events.fanout import SUBSCRIBERS_OF_TYPE, Subscriber
from hub.events.models import Event
from hub.store.driver import PG_DIALECT, pg_compiled, pg_driver
from hub.store.engine import Database

_EVENTS = cast(Table, Event.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)

EVENT_COLUMNS = (
    "id",
    "tenant_id",
    "integration_id",
    "producer_id",
    "type",
    "sandbox",
    "occurred_at",
    "received_at",
    "data",
)


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


def _defaults(table: Table) -> dict[str, Any]:
    """Column defaults applied client-side by SQLAlchemy inserts (the generic path)."""
    found: dict[str, Any] = {}
    for column in table.c:
        default = column.default
        if default is None:
            continue
        if not getattr(default, "is_scalar", False):
            raise RuntimeError(f"{table.name}.{column.name}: only scalar defaults are supported")
        found[column.name] = cast(Any, default).arg
    return found


_DELIVERY_DEFAULTS = _defaults(_DELIVERIES)


def _event_args(row: dict[str, Any]) -> list[Any]:
    # JSONB takes JSON text (the engine's codec); the same JSON the generic path stores.
    data = row["data"]
    return [
        *(row[c] for c in EVENT_COLUMNS[:-1]),
        None if data is None else msgspec.json.encode(data).decode(),
    ]


async def store_one(
    db: Database,
    event_row: dict[str, Any],
    deliveries_for: Callable[[Sequence[Subscriber]], list[dict[str, Any]]],
) -> tuple[bool, list[dict[str, Any]]]:
    """Insert ``event_row`` (``EVENT_COLUMNS``) and its deliveries, atomically.

    ``deliveries_for`` builds the outbox rows for the matching subscribers (in id
    order). Returns (inserted, delivery rows stored); (False, []) for a duplicate.
    """
    params = {
        **_SUBSCRIBER_LITERALS,
        "tenant_id": event_row["tenant_id"],
        "sandbox": event_row["sandbox"],
        "event_type": event_row["type"],
    }
    event_args = _event_args(event_row)
    async with pg_driver(db) as driver:
        found = await driver.fetch(
            FIRST, *(params[name] for name in _SUBSCRIBER_PARAMS), *event_args
        )
        subscribers = sorted(
            Subscriber(r["id"], r["integration_id"], r["event_type"], r["policy_overrides"])
            for r in found
            if not r["is_event"]
        )
        if not subscribers:
            return bool(found), []
        rows = [{**_DELIVERY_DEFAULTS, **row} for row in deliveries_for(subscribers)]
        columns = tuple(rows[0]) if rows else ("id",)
        statement = _statements.get(columns)
        if statement is None:
            statement = _statements[columns] = _with_deliveries(columns)
        arrays = [[row[c] for row in rows] for c in columns]
        inserted = await driver.fetchval(statement, *event_args, *arrays)
    return (True, rows) if inserted is not None else (False, [])
