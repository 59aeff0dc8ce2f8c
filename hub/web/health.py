"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Response, get
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


async def check_dependencies(rt: Runtime) -> dict[str, str]:
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
    # Capabilities' degraded-but-serving states (e.g. the actions' in-process rate-limit
    # fallback): shown, and they make the status "degraded", never unready.
    for name, probe in rt.extras.get("readiness_probes", {}).items():
        checks[name] = probe()
    return checks


_CRITICAL = ("database", "redis")


@get("/healthz", tags=["operations"])
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", tags=["operations"])
async def readyz(request: AnyRequest) -> Readiness:
    checks = await check_dependencies(runtime_of(request))
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


OPERATIONS_ROUTES = [healthz, readyz, metrics]
