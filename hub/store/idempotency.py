"""The idempotency records' two hot statements: claim (or read) a key, store its answer.

The rules (who runs a key, replay, 409, 422, take-over, fencing) live with the
capability (``hub/actions/records.py``); this module only talks to the table:

- ``claim_or_read``: insert the key as running, or read the row already holding it.
  On Postgres one data-modifying CTE does both in one statement on the driver; the
  portable form is an ``INSERT ... ON CONFLICT DO NOTHING`` then a read.
- ``complete``: store the answer while the row still has the attempt that ran it
  (the fencing token), and record the execution, atomically. One CTE on Postgres,
  a transaction of two statements elsewhere.

Every statement takes time from the caller (``rt.clock``), never ``now()`` in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.actions.models import Execution, IdempotencyRecord
from hub.store.driver import pg_driver
from hub.store.engine import Database

RECORDS = cast(Table, IdempotencyRecord.__table__)
EXECUTIONS = cast(Table, Execution.__table__)

# An ``executions`` row, by column name (``hub.actions.executions.execution_row``).
ExecutionRow = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A key claimed as running: attempt 1, locked until ``locked_until``."""

    record_id: str
    tenant_id: str
    integration_id: str
    key: str
    action: str
    fingerprint: str
    execution_id: str
    locked_until: datetime
    created_at: datetime
    expires_at: datetime


class RecordRow(NamedTuple):
    """An existing record, as the rules judge it (``READ_COLUMNS`` order)."""

    id: str
    fingerprint: str
    state: str
    attempt: int
    locked_until: datetime | None
    expires_at: datetime
    execution_id: str | None
    response_status: int | None
    response_type: str | None
    response_body: bytes | None


@dataclass(frozen=True, slots=True)
class Inserted:
    """``claim_or_read`` inserted the new record: the caller owns the key."""


INSERTED = Inserted()


@dataclass(frozen=True, slots=True)
class Completion:
    """The answer to store on record ``record_id`` if it still runs ``attempt``."""

    record_id: str
    attempt: int
    status: int
    media_type: str
    body: bytes
    execution_id: str | None  # the execution to link; None when none was recorded


class IdempotencyRecords(Protocol):
    async def claim_or_read(self, new: NewRecord) -> Inserted | RecordRow | None:
        """Insert ``new``, or read the record holding its (integration, key).

        None: a row holds the key but is not visible to this statement yet (a
        concurrent claim committed after its snapshot) or was purged meanwhile;
        the caller looks again.
        """
        ...

    async def complete(self, done: Completion, execution: ExecutionRow | None) -> int:
        """Store the answer (and insert ``execution``, which did run, either way);
        the number of records updated: 1 if the lock was still ours, else 0."""
        ...


READ_COLUMNS = (
    RECORDS.c.id,
    RECORDS.c.fingerprint,
    RECORDS.c.state,
    RECORDS.c.attempt,
    RECORDS.c.locked_until,
    RECORDS.c.expires_at,
    RECORDS.c.execution_id,
    RECORDS.c.response_status,
    RECORDS.c.response_type,
    RECORDS.c.response_body,
)


# -- portable: SQLAlchemy Core, any database ------------------------------------------


def _insert_for(dialect: str) -> postgresql.Insert | sqlite.Insert:
    # ON CONFLICT DO NOTHING is spelled by the dialect's own insert construct.
    if dialect == "sqlite":
        return sqlite.insert(RECORDS)
    return postgresql.insert(RECORDS)


async def insert_record(conn: AsyncConnection, new: NewRecord) -> bool:
    """``INSERT ... ON CONFLICT (integration_id, key) DO NOTHING``; True if inserted."""
    stmt = (
        _insert_for(conn.dialect.name)
        .values(
            id=new.record_id,
            tenant_id=new.tenant_id,
            integration_id=new.integration_id,
            key=new.key,
            action=new.action,
            fingerprint=new.fingerprint,
            state="running",
            attempt=1,
            execution_id=new.execution_id,
            locked_until=new.locked_until,
            created_at=new.created_at,
            expires_at=new.expires_at,
        )
        .on_conflict_do_nothing(index_elements=["integration_id", "key"])
        .returning(RECORDS.c.id)
    )
    return (await conn.execute(stmt)).first() is not None


async def read_record(conn: AsyncConnection, integration_id: str, key: str) -> RecordRow | None:
    row = (
        await conn.execute(
            select(*READ_COLUMNS).where(
                RECORDS.c.integration_id == integration_id, RECORDS.c.key == key
            )
        )
    ).first()
    return None if row is None else RecordRow._make(row)


class PortableIdempotencyRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim_or_read(self, new: NewRecord) -> Inserted | RecordRow | None:
        async with self.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if await insert_record(conn, new):
                return INSERTED
            return await read_record(conn, new.integration_id, new.key)

    async def complete(self, done: Completion, execution: ExecutionRow | None) -> int:
        async with self.db.engine.begin() as conn:
            result = await conn.execute(
                update(RECORDS)
                .where(
                    RECORDS.c.id == done.record_id,
                    RECORDS.c.attempt == done.attempt,
                    RECORDS.c.state == "running",
                )
                .values(
                    state="completed",
                    locked_until=None,
                    response_status=done.status,
                    response_type=done.media_type,
                    response_body=done.body,
                    execution_id=done.execution_id,
                )
            )
            if execution is not None:
                await conn.execute(insert(EXECUTIONS).values(**execution))
        return int(result.rowcount)


# -- Postgres: one statement each, on the asyncpg driver --------------------------------

# Claim: insert the key, or (when it exists) read it, in one statement. The read
# sees the statement's snapshot, so a row committed by a concurrent claim after
# our snapshot is not returned: the caller then falls back to a plain read.
CLAIM = """
WITH ins AS (
  INSERT INTO idempotency_records
    (id, tenant_id, integration_id, key, action, fingerprint, state, attempt,
     execution_id, locked_until, created_at, expires_at)
  VALUES
    ($1, $2, $3, $4, $5, $6, 'running', 1, $7, $8, $9, $10)
  ON CONFLICT (integration_id, key) DO NOTHING
  RETURNING id
)
SELECT true AS inserted, id, NULL::varchar AS fingerprint, NULL::varchar AS state,
       1 AS attempt, NULL::timestamptz AS locked_until, NULL::timestamptz AS expires_at,
       NULL::varchar AS execution_id, NULL::integer AS response_status,
       NULL::varchar AS response_type, NULL::bytea AS response_body
FROM ins
UNION ALL
SELECT false, id, fingerprint, state, attempt, locked_until, expires_at, execution_id,
       response_status, response_type, response_body
FROM idempotency_records
WHERE integration_id = $3 AND key = $4 AND NOT EXISTS (SELECT 1 FROM ins)
"""

EXECUTION_COLUMNS = (
    "id",
    "tenant_id",
    "integration_id",
    "action",
    "mode",
    "handler",
    "status",
    "error_code",
    "http_status",
    "idempotency_key",
    "attempt",
    "replay_count",
    "correlation_id",
    "started_at",
    "finished_at",
    "duration_ms",
)

_STORE_ANSWER = """
  UPDATE idempotency_records
  SET state = 'completed', locked_until = NULL, response_status = $1,
      response_type = $2, response_body = $3, execution_id = $4
  WHERE id = $5 AND attempt = $6 AND state = 'running'
  RETURNING 1
"""

# Store the answer and record the execution atomically; answers 1 if the lock was
# still ours (the execution is recorded either way: it did run). Only module
# constants are formatted into these statements; values are bound parameters.
COMPLETE_WITH_EXECUTION = f"""
WITH done AS ({_STORE_ANSWER}),
exe AS (
  INSERT INTO executions ({", ".join(EXECUTION_COLUMNS)})
  VALUES ({", ".join(f"${i}" for i in range(7, 7 + len(EXECUTION_COLUMNS)))})
)
SELECT count(*) FROM done
"""  # noqa: S608
COMPLETE = f"WITH done AS ({_STORE_ANSWER}) SELECT count(*) FROM done"  # noqa: S608


class PgIdempotencyRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim_or_read(self, new: NewRecord) -> Inserted | RecordRow | None:
        async with pg_driver(self.db) as driver:
            found = await driver.fetchrow(
                CLAIM,
                new.record_id,
                new.tenant_id,
                new.integration_id,
                new.key,
                new.action,
                new.fingerprint,
                new.execution_id,
                new.locked_until,
                new.created_at,
                new.expires_at,
            )
        if found is None:
            return None
        if found[0]:
            return INSERTED
        return RecordRow._make(tuple(found)[1:])

    async def complete(self, done: Completion, execution: ExecutionRow | None) -> int:
        args = (
            done.status,
            done.media_type,
            done.body,
            done.execution_id,
            done.record_id,
            done.attempt,
        )
        async with pg_driver(self.db) as driver:
            if execution is None:
                return int(await driver.fetchval(COMPLETE, *args))
            values = tuple(execution[c] for c in EXECUTION_COLUMNS)
            return int(await driver.fetchval(COMPLETE_WITH_EXECUTION, *args, *values))
