"""``last_used_at`` without a database write per request.

Each process remembers the newest use per key and writes them in one batch
every few seconds (and at shutdown). Losing a few seconds of it is harmless.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update

from hub.store.engine import Database
from hub.tenancy.models import ApiKey


class KeyUsageRecorder:
    def __init__(self) -> None:
        self._pending: dict[str, datetime] = {}

    def touch(self, key_id: str, at: datetime) -> None:
        self._pending[key_id] = at

    async def flush(self, db: Database) -> int:
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        async with db.transaction() as session:
            for key_id, at in pending.items():
                await session.execute(
                    update(ApiKey)
                    .where(
                        ApiKey.id == key_id,
                        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < at),
                    )
                    .values(last_used_at=at)
                )
        return len(pending)
