"""What the database holds, seen from outside: row counts and a text dump of every table."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

import hub.store.models as models
from hub.store.engine import Database


def _tables() -> list[Any]:
    return list(models.Base.metadata.sorted_tables)


async def table_counts(db: Database) -> dict[str, int]:
    """Rows per table, for every table the models declare."""
    counts: dict[str, int] = {}
    async with db.session() as session:
        for table in _tables():
            counts[table.name] = (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts


@asynccontextmanager
async def unchanged(db: Database) -> AsyncIterator[None]:
    """Assert that the block leaves every table's row count as it found it."""
    before = await table_counts(db)
    yield
    after = await table_counts(db)
    assert after == before, {t: (before[t], after[t]) for t in before if before[t] != after[t]}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return raw.hex() + " " + raw.decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


async def dump_text(db: Database) -> str:
    """Every column of every row of every table as text (what a stolen dump would show)."""
    parts: list[str] = []
    async with db.session() as session:
        for table in _tables():
            for row in (await session.execute(select(table))).all():
                parts.extend(_as_text(v) for v in row)
            if not db.is_sqlite:
                # The server's own text rendering of each row, independent of our types.
                rendered = await session.execute(text(f'SELECT t::text FROM "{table.name}" t'))
                parts.extend(r[0] for r in rendered)
    return "\n".join(parts)


def sqlite_file_bytes(url: str) -> bytes:
    """The raw bytes of a SQLite database and its WAL (free pages may hold old data)."""
    path = Path(url.split(":///", 1)[1])
    data = b""
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists():
            data += candidate.read_bytes()
    return data
