"""The infrastructure every capability stands on, built once per hub.

Settings, clock, database, Redis and its key names, the vault and the hasher —
nothing a capability owns: capabilities' services are built from a Runtime by the
composition root (``hub/app.py``) and handed to whoever needs them. Nothing here is
process-global, so two hubs with different settings live side by side in one process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis

from hub.clock import Clock, SystemClock
from hub.config import ConfigError, Settings
from hub.kv.connection import create_redis
from hub.kv.keys import RedisKeys
from hub.security.bursts import AuthFailureCounter
from hub.security.encryption import Vault
from hub.security.hashing import SecretHasher
from hub.security.keyfile import dev_secret_keys
from hub.security.store import load_hasher
from hub.store.engine import Database
from hub.store.key_usage import KeyUsageRecorder
from hub.store.migrate import ensure_migrated, upgrade
from hub.store.seams import Stores, build_stores
from hub.tracing import Tracing

log = logging.getLogger("hub.runtime")


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    redis: ArqRedis
    keys: RedisKeys
    vault: Vault
    hasher: SecretHasher
    key_usage: KeyUsageRecorder
    stores: Stores  # the hot store operations, for this backend (hub/store/seams.py)
    auth_failures: AuthFailureCounter = field(default_factory=AuthFailureCounter)
    tracing: Tracing = field(default_factory=Tracing.off)  # hub/tracing.py
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop_background(self) -> None:
        """Cancel and await what ``spawn`` started (repeatable)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                log.debug("background task ended", exc_info=True)

    async def close(self) -> None:
        await self.stop_background()
        await self.key_usage.flush(self.db)
        await self.redis.aclose()
        await self.db.dispose()
        self.tracing.close()  # flushes the last spans

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` until ``close`` cancels it (background upkeep)."""
        self._tasks.append(asyncio.get_running_loop().create_task(coro))


async def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    pool_size: int = 10,
    migrate: bool = False,
    tracing: Tracing | None = None,
) -> Runtime:
    """Connect everything. Refuses an unmigrated database unless ``migrate`` (``hub dev``).
    ``tracing`` defaults to what the settings ask for (off unless ``OTEL_*`` say)."""
    keys = settings.secret_keys
    if not keys:
        if settings.is_production:
            raise ConfigError("production requires HUB_SECRET_KEYS")
        keys = dev_secret_keys(settings)
    vault = Vault(keys)
    tracing = tracing or Tracing.from_settings(settings)
    tracing.instrument_libraries()
    db = Database(settings.database_url, pool_size=pool_size)
    try:
        if migrate:
            await upgrade(db)
        await ensure_migrated(db)
        hasher = await load_hasher(db, vault)
    except BaseException:
        await db.dispose()
        tracing.close()
        raise
    redis = create_redis(settings.redis_url)
    return Runtime(
        settings=settings,
        clock=clock or SystemClock(),
        db=db,
        redis=redis,
        keys=RedisKeys(settings.redis_prefix),
        vault=vault,
        hasher=hasher,
        key_usage=KeyUsageRecorder(),
        stores=build_stores(db),
        tracing=tracing,
    )
