"""Redis for the hub and arq: a real server, or the embedded in-process stand-in.

The stand-in is fakeredis with Lua (lupa), one server per process, so the API and
the arq worker of ``hub dev`` share it and rate-limit scripts really run.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from arq.connections import ArqRedis, RedisSettings

from hub.config import ConfigError

# What the embedded mode (``hub dev``, SQLite + in-process Redis) needs beyond a
# production install: pyproject's `embedded` extra.
_EMBEDDED_MODULES = ("fakeredis", "lupa", "uvicorn")

_fake_servers: dict[str, Any] = {}


def require_embedded_extra() -> None:
    """Refuse, with the install line, when the `embedded` extra is not installed."""
    missing = [name for name in _EMBEDDED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            "the embedded mode (hub dev, or HUB_REDIS_URL empty / memory://) needs the "
            f"'embedded' extra, missing here: {', '.join(missing)}; install it with "
            "pip install 'hub[embedded]' (from a checkout: bash scripts/dev, or "
            "pip install -e '.[embedded]')"
        )


def _fake_client(name: str) -> ArqRedis:
    require_embedded_extra()
    from fakeredis import FakeServer
    from fakeredis.aioredis import FakeAsyncRedisMixin

    class FakeArqRedis(FakeAsyncRedisMixin, ArqRedis):  # type: ignore[misc]
        pass

    _skip_info_for_fakes()
    server = _fake_servers.setdefault(name, FakeServer())
    client: ArqRedis = FakeArqRedis(server=server, decode_responses=False)
    return client


def _skip_info_for_fakes() -> None:
    """arq's ``Worker.main`` logs Redis ``INFO``, a command fakeredis lacks, and dies.

    arq looks the function up in its module at call time, so wrapping it there keeps
    real servers' log line and lets the worker really run on the stand-in (``hub dev``).
    """
    import arq.worker
    from fakeredis.aioredis import FakeAsyncRedisMixin

    original = arq.worker.log_redis_info  # type: ignore[attr-defined]
    if getattr(original, "_hub_wrapped", False):
        return

    async def log_redis_info(redis: Any, log_func: Any) -> None:
        if isinstance(redis, FakeAsyncRedisMixin):
            log_func("redis: the in-process stand-in (embedded mode)")
            return
        await original(redis, log_func)

    log_redis_info._hub_wrapped = True  # type: ignore[attr-defined]
    arq.worker.log_redis_info = log_redis_info  # type: ignore[attr-defined]


def is_embedded(url: str) -> bool:
    return url == "" or url.startswith("memory://")


def create_redis(url: str) -> ArqRedis:
    """An ``ArqRedis`` client (a ``redis.asyncio.Redis``) for ``url``."""
    if is_embedded(url):
        return _fake_client(url or "memory://")
    settings = RedisSettings.from_dsn(url)
    client: ArqRedis = ArqRedis.from_url(
        url,
        socket_connect_timeout=settings.conn_timeout,
        socket_timeout=5,
        max_connections=64,
    )
    return client
