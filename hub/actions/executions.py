"""Executions: the row each handler run leaves, its views, and replay counting.

Replays are the hot path of a retrying client, so they are counted in memory and
added to ``executions.replay_count`` in one batch every few seconds (and when the
process stops), like API-key ``last_used_at``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import select, update

from hub.actions.models import Execution, IdempotencyRecord
from hub.store.engine import Database

log = logging.getLogger("hub.actions")

REPLAYS = "action_replays"
REPLAY_FLUSH_SECONDS = 5.0


class ExecutionView(msgspec.Struct):
    id: str
    tenant_id: str
    integration_id: str
    action: str
    mode: str
    handler: str | None
    status: str  # running | succeeded | rejected | failed
    error_code: str | None
    http_status: int | None
    idempotency_key: str
    attempt: int
    replay_count: int
    correlation_id: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    # The stored answer's outputs while the key's record is kept (null afterwards).
    outputs: dict[str, Any] | None = None


def execution_row(
    *,
    execution_id: str,
    tenant_id: str,
    integration_id: str,
    action: str,
    sandbox: bool,
    handler: str,
    status: str,
    error_code: str | None,
    http_status: int,
    idempotency_key: str,
    attempt: int,
    correlation_id: str,
    started_at: datetime,
    duration_ms: int,
) -> dict[str, Any]:
    return {
        "id": execution_id,
        "tenant_id": tenant_id,
        "integration_id": integration_id,
        "action": action,
        "mode": "sandbox" if sandbox else "live",
        "handler": handler,
        "status": status,
        "error_code": error_code,
        "http_status": http_status,
        "idempotency_key": idempotency_key,
        "attempt": attempt,
        "replay_count": 0,
        "correlation_id": correlation_id or None,
        "started_at": started_at,
        "finished_at": started_at + timedelta(milliseconds=duration_ms),
        "duration_ms": duration_ms,
    }


def _outputs(body: bytes | None) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    outputs = decoded.get("outputs") if isinstance(decoded, dict) else None
    return outputs if isinstance(outputs, dict) else None


def _view(e: Execution, body: bytes | None) -> ExecutionView:
    return ExecutionView(
        id=e.id,
        tenant_id=e.tenant_id,
        integration_id=e.integration_id,
        action=e.action,
        mode=e.mode,
        handler=e.handler,
        status=e.status,
        error_code=e.error_code,
        http_status=e.http_status,
        idempotency_key=e.idempotency_key,
        attempt=e.attempt,
        replay_count=e.replay_count,
        correlation_id=e.correlation_id,
        started_at=e.started_at,
        finished_at=e.finished_at,
        duration_ms=e.duration_ms,
        outputs=_outputs(body) if e.status == "succeeded" else None,
    )


async def find_execution(
    db: Database,
    execution_id: str,
    *,
    lock_seconds: int,
    tenant_id: str | None = None,
    integration_id: str | None = None,
) -> ExecutionView | None:
    """One execution, limited to a tenant and/or integration; a running one from its lock."""
    stmt = (
        select(Execution, IdempotencyRecord.response_body)
        .outerjoin(
            IdempotencyRecord,
            (IdempotencyRecord.execution_id == Execution.id)
            & (IdempotencyRecord.integration_id == Execution.integration_id),
        )
        .where(Execution.id == execution_id)
    )
    if tenant_id is not None:
        stmt = stmt.where(Execution.tenant_id == tenant_id)
    if integration_id is not None:
        stmt = stmt.where(Execution.integration_id == integration_id)
    async with db.session() as session:
        row = (await session.execute(stmt)).first()
        if row is not None:
            return _view(row[0], row[1])
        running = select(IdempotencyRecord).where(
            IdempotencyRecord.execution_id == execution_id,
            IdempotencyRecord.state == "running",
        )
        if tenant_id is not None:
            running = running.where(IdempotencyRecord.tenant_id == tenant_id)
        if integration_id is not None:
            running = running.where(IdempotencyRecord.integration_id == integration_id)
        record = (await session.scalars(running)).first()
    if record is None or record.locked_until is None:
        return None
    return ExecutionView(
        id=execution_id,
        tenant_id=record.tenant_id,
        integration_id=record.integration_id,
        action=record.action,
        mode="",
        handler=None,
        status="running",
        error_code=None,
        http_status=None,
        idempotency_key=record.key,
        attempt=record.attempt,
        replay_count=0,
        correlation_id=None,
        started_at=record.locked_until - timedelta(seconds=lock_seconds),
        finished_at=None,
        duration_ms=None,
    )


async def list_executions(
    db: Database,
    *,
    tenant_id: str | None,
    integration_id: str | None,
    action: str | None,
    status: str | None,
    before_id: str | None,
    limit: int,
) -> list[ExecutionView]:
    stmt = select(Execution)
    if tenant_id is not None:
        stmt = stmt.where(Execution.tenant_id == tenant_id)
    if integration_id is not None:
        stmt = stmt.where(Execution.integration_id == integration_id)
    if action is not None:
        stmt = stmt.where(Execution.action == action)
    if status is not None:
        stmt = stmt.where(Execution.status == status)
    if before_id is not None:
        stmt = stmt.where(Execution.id < before_id)
    stmt = stmt.order_by(Execution.id.desc()).limit(limit)
    async with db.session() as session:
        rows = list(await session.scalars(stmt))
    return [_view(e, None) for e in rows]


class ReplayCounter:
    """Counts replays per execution in memory; ``flush`` adds them in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[str, int] = {}

    def add(self, execution_id: str) -> None:
        self._pending[execution_id] = self._pending.get(execution_id, 0) + 1

    async def flush(self) -> int:
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        async with self._db.transaction() as session:
            for execution_id, count in sorted(pending.items()):
                await session.execute(
                    update(Execution)
                    .where(Execution.id == execution_id)
                    .values(replay_count=Execution.replay_count + count)
                )
        return len(pending)

    async def flush_forever(self) -> None:
        while True:
            await asyncio.sleep(REPLAY_FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                log.warning("could not record replay counts", exc_info=True)

    async def aclose(self) -> None:
        """Runtime.close calls this: the last counts reach the database."""
        try:
            await self.flush()
        except Exception:
            log.warning("could not record replay counts at shutdown", exc_info=True)
