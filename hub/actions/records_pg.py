"""Postgres fast paths of the idempotency store: one statement, one round trip each.

The generic paths (``records.py``) need an insert then a read to claim a key, and a
transaction of two statements to store an answer. On Postgres, data-modifying CTEs
do each in one atomic statement. Same rules, same fencing; SQLite keeps the generic
paths. These run on the pooled connection's asyncpg driver directly: on the hot path
SQLAlchemy's statement layer costs more CPU than the round trip (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

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

_EXECUTION_COLUMNS = (
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
  INSERT INTO executions ({", ".join(_EXECUTION_COLUMNS)})
  VALUES ({", ".join(f"${i}" for i in range(7, 7 + len(_EXECUTION_COLUMNS)))})
)
SELECT count(*) FROM done
"""  # noqa: S608
COMPLETE = f"WITH done AS ({_STORE_ANSWER}) SELECT count(*) FROM done"  # noqa: S608


async def claim_or_read(driver: Any, *args: Any) -> Any:
    """(id, tenant, integration, key, action, fingerprint, execution, locked_until, now,
    expires_at) -> the inserted marker or the existing row (None: not visible yet)."""
    return await driver.fetchrow(CLAIM, *args)


async def complete(driver: Any, args: tuple[Any, ...], execution: dict[str, Any] | None) -> int:
    """(status, media_type, body, stored execution id, record id, attempt) -> rows kept."""
    if execution is None:
        return int(await driver.fetchval(COMPLETE, *args))
    values = tuple(execution[c] for c in _EXECUTION_COLUMNS)
    return int(await driver.fetchval(COMPLETE_WITH_EXECUTION, *args, *values))
