"""Periodic upkeep: idempotency records past their window, executions past retention."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from arq import cron
from sqlalchemy import delete, select

from hub.actions.models import Execution
from hub.actions.state import idempotency_store
from hub.runtime import Runtime

log = logging.getLogger("hub.actions")

_BATCH = 1000


async def purge_executions(rt: Runtime) -> int:
    cutoff = rt.clock.now() - timedelta(seconds=rt.settings.execution_retention_seconds)
    removed = 0
    while True:
        async with rt.db.transaction() as session:
            ids = list(
                await session.scalars(
                    select(Execution.id).where(Execution.started_at < cutoff).limit(_BATCH)
                )
            )
            if ids:
                await session.execute(delete(Execution).where(Execution.id.in_(ids)))
        removed += len(ids)
        if len(ids) < _BATCH:
            return removed


async def purge_actions(ctx: dict[str, Any]) -> dict[str, int]:
    """arq cron job (idempotent: deleting what is already gone is a no-op)."""
    rt: Runtime = ctx["rt"]
    records = await idempotency_store(rt).purge(rt.clock.now(), batch=_BATCH)
    executions = await purge_executions(rt)
    if records or executions:
        log.info("purged", extra={"idempotency_records": records, "executions": executions})
    return {"idempotency_records": records, "executions": executions}


# Every ten minutes; arq's unique cron job id keeps it to one worker per run.
PURGE_CRON = cron(
    purge_actions, name="cron:actions_purge", minute=set(range(0, 60, 10)), timeout=300
)
