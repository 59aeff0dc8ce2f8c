"""Apply and check alembic migrations on either database, from code.

``hub migrate`` upgrades; ``hub serve`` and ``hub worker`` refuse to start on a
database whose revision is not the head (``hub dev`` migrates itself).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from hub.store.engine import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class NotMigrated(Exception):
    """The database is not at the code's migration head."""


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    """The code's migration head (read once: the files do not change while running)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(db: Database, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(_config(connection), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def current_revision(db: Database) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def ensure_migrated(db: Database) -> None:
    current = await current_revision(db)
    head = head_revision()
    if current != head:
        shown = current or "empty"
        raise NotMigrated(
            f"database is at revision {shown}, the code needs {head}: run `hub migrate` first"
        )
