"""Per-run databases: a fresh Postgres database (or SQLite file) migrated once per session."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.store.base import Base
from hub.store.engine import Database, normalize_url
from hub.store.migrate import upgrade


def test_database_url() -> str | None:
    return os.environ.get("HUB_TEST_DATABASE_URL") or None


def test_redis_url() -> str:
    return os.environ.get("HUB_TEST_REDIS_URL") or "memory://"


def _asyncpg_dsn(url: str) -> str:
    url = normalize_url(url)
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_postgres_database(base_url: str) -> str:
    """Create ``hub_t_<random>`` next to the database in ``base_url``; return its URL."""
    name = f"hub_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_asyncpg_dsn(base_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    head, _, _ = normalize_url(base_url).rpartition("/")
    return f"{head}/{name}"


async def drop_postgres_database(base_url: str, url: str) -> None:
    name = url.rpartition("/")[2]
    conn = await asyncpg.connect(_asyncpg_dsn(base_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def make_test_database(tmp_dir: Path) -> tuple[str, str | None]:
    """(url of a migrated database, base url to drop it with or None for SQLite)."""
    base = test_database_url()
    if base and base.startswith(("postgres", "postgresql")):
        url = await create_postgres_database(base)
    else:
        url = f"sqlite+aiosqlite:///{tmp_dir / 'hub.sqlite3'}"
        base = None
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    return url, base


# Installation-wide state, kept like the schema itself: the key-hashing pepper must
# stay the one a runtime already loaded, or a second process would hash differently.
KEPT_TABLES = frozenset({"hub_secrets"})


# Tables whose rows a trigger protects (append-only): emptied with TRUNCATE, which
# row triggers do not see.
TRUNCATED_TABLES = frozenset({"audit_log"})


async def wipe(db: Database) -> None:
    """Empty every table but ``KEPT_TABLES`` (tests stay independent without re-migrating).

    On Postgres, DELETE of a few rows is several times faster than TRUNCATE of many
    tables (TRUNCATE swaps files); TRUNCATE remains the fallback for anything DELETE
    cannot empty.
    """
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    if db.is_sqlite:
        async with db.engine.begin() as conn:
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
        return
    try:
        async with db.engine.begin() as conn:
            for name in tables:
                verb = "TRUNCATE" if name in TRUNCATED_TABLES else "DELETE FROM"
                await conn.execute(text(f'{verb} "{name}"'))
    except DBAPIError:
        async with db.engine.begin() as conn:
            joined = ", ".join(f'"{n}"' for n in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
