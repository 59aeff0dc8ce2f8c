"""Postgres hot paths: a pooled connection's asyncpg driver, outside any transaction.

On the request hot paths (key auth, idempotency claim/store, the internal publish)
SQLAlchemy's statement layer costs more CPU than the round trip itself, so those
run their one statement on the driver directly (docs/performance.md, "Actions").
The connection comes from the engine's own pool (same limits, same codecs: JSON
columns take JSON text and come back decoded); no transaction is opened, so each
statement commits on its own. Only the Postgres implementations of the store seams
(``seams.py``) use it; SQLite never takes these paths.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from hub.store.engine import Database

# What compiles Core statements into the driver's SQL ($1, $2, ... placeholders).
PG_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]

# A database that failed or could not be reached, on either path (pool checkout
# raises SQLAlchemy's errors, statements on the driver asyncpg's).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)


def pg_compiled(statement: ClauseElement) -> SQLCompiler:
    """``statement`` as the driver's SQL (``.string``; ``.positiontup`` names the
    parameters in order, ``.params`` holds the values of its literals)."""
    return cast(SQLCompiler, statement.compile(dialect=PG_DIALECT))


@asynccontextmanager
async def pg_driver(db: Database) -> AsyncIterator[Any]:
    """Check a connection out of the pool and yield its ``asyncpg.Connection``.

    A server-side error (``asyncpg.PostgresError``) leaves the connection usable and
    it goes back to the pool; anything else (a broken socket, a cancelled request
    mid-statement) may leave it in an unknown state, so it is discarded instead.
    """
    # raw_connection skips the AsyncConnection wrapper (~0.08 ms of CPU a checkout).
    pooled = await db.engine.raw_connection()
    try:
        yield pooled.driver_connection
    except asyncpg.PostgresError:
        await greenlet_spawn(pooled.close)
        raise
    except BaseException:
        pooled.invalidate()
        raise
    else:
        # Back to the pool; its reset is a no-op as no transaction was begun.
        await greenlet_spawn(pooled.close)
