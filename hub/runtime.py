"""The process's long-lived parts, built once and handed to controllers and jobs.

Capabilities keep their own long-lived objects here (one attribute each) so a
test can build two independent hubs in one process.
"""

from __future__ import annotations

import asyncio
import logging
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
from hub.store.migrate import ensure_migrated, upgrade
from hub.tenancy.usage import KeyUsageRecorder

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
    auth_failures: AuthFailureCounter = field(default_factory=AuthFailureCounter)
    # Capability-owned singletons (compiled policies, HTTP clients, limiters...),
    # created by each capability's ``attach(runtime)`` at start.
    extras: dict[str, Any] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                log.debug("background task ended", exc_info=True)
        await self.key_usage.flush(self.db)
        for closer in list(self.extras.values()):
            aclose = getattr(closer, "aclose", None)
            if aclose is not None:
                await aclose()
        await self.redis.aclose()
        await self.db.dispose()

    def spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro))


async def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    pool_size: int = 10,
    migrate: bool = False,
) -> Runtime:
    """Connect everything. Refuses an unmigrated database unless ``migrate`` (``hub dev``)."""
    keys = settings.secret_keys
    if not keys:
        if settings.is_production:
            raise ConfigError("production requires HUB_SECRET_KEYS")
        keys = dev_secret_keys(settings)
    vault = Vault(keys)
    db = Database(settings.database_url, pool_size=pool_size)
    try:
        if migrate:
            await upgrade(db)
        await ensure_migrated(db)
        hasher = await load_hasher(db, vault)
    except BaseException:
        await db.dispose()
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
    )
