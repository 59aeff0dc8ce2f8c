"""Re-encrypt every stored secret under the first ``HUB_SECRET_KEYS`` key.

The convention that makes this complete: a column holding a Fernet token is named
``*_encrypted`` (and nothing else is). Every such column of every model is found
here, so a capability adding an encrypted column needs no change in this module.
After a run the old keys can be removed from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, bindparam, select, update

import hub.store.models as models  # every model, so the metadata is complete
from hub.audit.service import record

if TYPE_CHECKING:
    from hub.runtime import Runtime

ENCRYPTED_SUFFIX = "_encrypted"


def encrypted_columns() -> Iterator[tuple[Table, Column[Any]]]:
    for table in models.Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith(ENCRYPTED_SUFFIX):
                yield table, column


async def reencrypt_all(rt: Runtime) -> dict[str, int]:
    """Rotate every encrypted value in one transaction; returns rows per ``table.column``."""
    counts: dict[str, int] = {}
    async with rt.db.transaction() as session:
        conn = await session.connection()
        for table, column in encrypted_columns():
            keys = list(table.primary_key.columns)
            rows = (await conn.execute(select(*keys, column).where(column.is_not(None)))).all()
            if rows:
                stmt = (
                    update(table)
                    .where(*(k == bindparam(f"pk_{k.name}") for k in keys))
                    .values({column.name: bindparam("new_value")})
                )
                await conn.execute(
                    stmt,
                    [
                        {
                            **{f"pk_{k.name}": row[i] for i, k in enumerate(keys)},
                            "new_value": rt.vault.rotate(row[-1]),
                        }
                        for row in rows
                    ],
                )
            counts[f"{table.name}.{column.name}"] = len(rows)
        record(
            session,
            at=rt.clock.now(),
            actor="cli",
            action="encryption_key.rotated",
            details=dict(counts),
        )
    return counts
