"""The idempotency store: Postgres (or SQLite) decides who runs a key, nothing else.

- ``claim``: an ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (integration,
  key); the winner runs the action. Everyone else reads the row: a stored answer
  is replayed, a live lock answers 409, another fingerprint answers 422, and a
  released key or an expired lock is taken over by a conditional ``UPDATE``.
- ``attempt`` is the fencing token: completing, releasing or taking over a record
  only succeeds while the row still has the attempt and state that were read, so
  a request whose lock expired can never overwrite its successor's answer.

The claim's first insert-or-read and storing the answer are the backend's hot
statements (``hub/store/idempotency.py``: one statement each on Postgres); the rules
here are the same on every database. Every statement carries time from the caller
(``rt.clock``), never ``now()`` in SQL, so tests move time with a ``FrozenClock``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.actions.metrics import LOST_CLAIMS
from hub.actions.models import Execution, IdempotencyRecord
from hub.ids import new_id, new_ulid
from hub.store.engine import Database
from hub.store.idempotency import (
    Completion,
    ExecutionRow,
    IdempotencyRecords,
    Inserted,
    NewRecord,
    RecordRow,
    insert_record,
    read_record,
)

log = logging.getLogger("hub.actions")

RECORDS = cast(Table, IdempotencyRecord.__table__)
EXECUTIONS = cast(Table, Execution.__table__)

# How long a client should wait before retrying a key that is running right now.
IN_PROGRESS_RETRY_AFTER = 1
# Bounded retries when a concurrent request changes the row between read and update.
_CLAIM_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class Owned:
    """This request runs the action under the key."""

    record_id: str
    attempt: int
    execution_id: str
    fresh: bool  # the row was created by this claim (nothing ran under it before)
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    media_type: str
    body: bytes
    execution_id: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InProgress:
    retry_after: int


@dataclass(frozen=True, slots=True)
class Reused:
    pass


Claim = Owned | Replay | InProgress | Reused


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    media_type: str
    body: bytes


class IdempotencyStore:
    """The rules of a key over the records store (``hub/store/idempotency.py``).

    ``records`` is the backend's implementation of the two hot statements
    (``rt.stores.idempotency``, chosen once by ``build_stores``). The rest (judging a
    row, take-over, release, purge) is the same SQLAlchemy Core on every database.
    """

    def __init__(
        self,
        db: Database,
        *,
        lock_seconds: int,
        ttl_seconds: int,
        records: IdempotencyRecords,
    ) -> None:
        self.db = db
        self.lock = timedelta(seconds=lock_seconds)
        self.ttl = timedelta(seconds=ttl_seconds)
        self.records = records

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """One statement, one round trip: no BEGIN/COMMIT around a single write."""
        async with self.db.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    def _new_record(
        self,
        tenant_id: str,
        integration_id: str,
        key: str,
        action: str,
        fingerprint: str,
        now: datetime,
    ) -> NewRecord:
        return NewRecord(
            record_id=f"idem_{new_ulid()}",
            tenant_id=tenant_id,
            integration_id=integration_id,
            key=key,
            action=action,
            fingerprint=fingerprint,
            execution_id=new_id("execution"),
            locked_until=now + self.lock,
            created_at=now,
            expires_at=now + self.ttl,
        )

    async def claim(
        self,
        *,
        tenant_id: str,
        integration_id: str,
        key: str,
        action: str,
        fingerprint: str,
        now: datetime,
    ) -> Claim:
        new = self._new_record(tenant_id, integration_id, key, action, fingerprint, now)
        found = await self.records.claim_or_read(new)
        if isinstance(found, Inserted):
            return Owned(new.record_id, 1, new.execution_id, True, new.expires_at)
        async with self._autocommit() as conn:
            if found is not None:
                verdict = await self._judge(conn, found, fingerprint, now)
                if verdict is not None:
                    return verdict
            for _ in range(_CLAIM_ROUNDS):
                new = self._new_record(tenant_id, integration_id, key, action, fingerprint, now)
                if await insert_record(conn, new):
                    return Owned(new.record_id, 1, new.execution_id, True, new.expires_at)
                row = await read_record(conn, integration_id, key)
                if row is None:
                    continue  # purged between our insert and our read: insert again
                verdict = await self._judge(conn, row, fingerprint, now)
                if verdict is not None:
                    return verdict
        return InProgress(retry_after=IN_PROGRESS_RETRY_AFTER)

    async def _judge(
        self, conn: AsyncConnection, row: RecordRow, fingerprint: str, now: datetime
    ) -> Claim | None:
        """What an existing record means for this request; None: it changed, look again."""
        if row.expires_at <= now:
            # Past its window the key is free: drop the stale row, then insert.
            await conn.execute(
                delete(RECORDS).where(
                    RECORDS.c.id == row.id,
                    RECORDS.c.attempt == row.attempt,
                    RECORDS.c.expires_at <= now,
                )
            )
            return None
        if row.fingerprint != fingerprint:
            return Reused()
        if row.state == "completed":
            # A completed record always holds its answer (``complete`` writes all three).
            return Replay(
                status=cast(int, row.response_status),
                media_type=cast(str, row.response_type),
                body=bytes(cast(bytes, row.response_body)),
                execution_id=row.execution_id,
                expires_at=row.expires_at,
            )
        if row.state == "running" and row.locked_until and row.locked_until > now:
            return InProgress(retry_after=IN_PROGRESS_RETRY_AFTER)
        # Released after a retriable failure, or a crashed request's lock expired.
        execution_id = new_id("execution")
        taken = await conn.execute(
            update(RECORDS)
            .where(
                RECORDS.c.id == row.id,
                RECORDS.c.attempt == row.attempt,
                RECORDS.c.state == row.state,
            )
            .values(
                state="running",
                attempt=row.attempt + 1,
                locked_until=now + self.lock,
                execution_id=execution_id,
            )
        )
        if taken.rowcount == 1:
            return Owned(row.id, row.attempt + 1, execution_id, False, row.expires_at)
        return None

    def _mine(self, owned: Owned) -> ColumnElement[bool]:
        return and_(
            RECORDS.c.id == owned.record_id,
            RECORDS.c.attempt == owned.attempt,
            RECORDS.c.state == "running",
        )

    async def complete(self, owned: Owned, answer: Answer, execution: ExecutionRow | None) -> bool:
        """Store the answer (and record the execution); False if the lock was lost."""
        kept = await self.records.complete(
            Completion(
                record_id=owned.record_id,
                attempt=owned.attempt,
                status=answer.status,
                media_type=answer.media_type,
                body=answer.body,
                execution_id=owned.execution_id if execution is not None else None,
            ),
            execution,
        )
        return self._kept(owned, kept)

    async def release(self, owned: Owned, execution: ExecutionRow | None) -> bool:
        """Free the key for a retry (and record the failed execution, if one ran)."""
        async with self.db.engine.begin() as conn:
            if owned.fresh and execution is None:
                # Nothing ran under this key: forget it entirely (also its fingerprint).
                result = await conn.execute(delete(RECORDS).where(self._mine(owned)))
            else:
                result = await conn.execute(
                    update(RECORDS)
                    .where(self._mine(owned))
                    .values(state="released", locked_until=None)
                )
            if execution is not None:
                await conn.execute(insert(EXECUTIONS).values(**execution))
        return self._kept(owned, result.rowcount)

    def _kept(self, owned: Owned, rowcount: int) -> bool:
        if rowcount == 1:
            return True
        LOST_CLAIMS.inc()
        log.warning(
            "idempotency lock expired before the execution finished",
            extra={"execution_id": owned.execution_id},
        )
        return False

    async def purge(self, now: datetime, *, batch: int = 1000) -> int:
        """Delete records past their window (never one whose lock is still live)."""
        removed = 0
        while True:
            async with self.db.engine.begin() as conn:
                ids = list(
                    (
                        await conn.execute(
                            select(RECORDS.c.id)
                            .where(RECORDS.c.expires_at <= now)
                            .where((RECORDS.c.state != "running") | (RECORDS.c.locked_until <= now))
                            .limit(batch)
                        )
                    ).scalars()
                )
                if ids:
                    await conn.execute(delete(RECORDS).where(RECORDS.c.id.in_(ids)))
            removed += len(ids)
            if len(ids) < batch:
                return removed
