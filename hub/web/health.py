"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text

from hub.runtime import Runtime
from hub.web.errors import ProblemError
from hub.web.requests import AnyRequest, runtime_of


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


# A capability's degraded-but-serving state (e.g. the actions' in-process rate-limit
# fallback, tenants' failing connectors): "ok", or what is degraded. A probe that must
# ask the database is a coroutine function. The composition root names them.
Probe = Callable[[], str | Awaitable[str]]


class Probes:
    """The probes by name (a plain class: litestar injects it as is, unvalidated)."""

    __slots__ = ("by_name",)

    def __init__(self, by_name: Mapping[str, Probe]) -> None:
        self.by_name = dict(by_name)


async def check_dependencies(rt: Runtime, probes: Probes) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(2), rt.db.session() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    try:
        async with asyncio.timeout(1):
            await rt.redis.ping()
        checks["redis"] = "ok"
    except Exception:
        checks["redis"] = "unreachable"
    # Shown, and they make the status "degraded", never unready.
    for name, probe in probes.by_name.items():
        try:
            async with asyncio.timeout(2):
                answer = probe()
                checks[name] = await answer if inspect.isawaitable(answer) else answer
        except Exception:
            checks[name] = "unknown"
    return checks


_CRITICAL = ("database", "redis")


@get("/healthz", tags=["operations"])
async def check_liveness() -> Health:
    """Liveness: the process answers.

    Always 200 while the process serves requests; checks nothing else (use /readyz
    for dependencies).
    """
    return Health(status="ok")


@get("/readyz", tags=["operations"])
async def check_readiness(request: AnyRequest, probes: NamedDependency[Probes]) -> Readiness:
    """Readiness: the database and Redis answer.

    200 when every dependency answers; 503 with the failing ones named otherwise
    (load balancers drain on 503).
    """
    checks = await check_dependencies(runtime_of(request), probes)
    failed = [name for name in _CRITICAL if checks.get(name, "ok") != "ok"]
    if failed:
        raise ProblemError(
            "UNAVAILABLE",
            "not ready: " + ", ".join(f"{n} {checks[n]}" for n in failed),
            extra={"checks": checks},
        )
    degraded = any(state != "ok" for state in checks.values())
    return Readiness(status="degraded" if degraded else "ready", checks=checks)


@get("/metrics", tags=["operations"], include_in_schema=False)
async def metrics() -> Response[bytes]:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


OPERATIONS_ROUTES = [check_liveness, check_readiness, metrics]
