"""The arq worker: the capabilities' jobs, with the Runtime in ``ctx["rt"]`` and the
process's one delivery engine beside it.

Jobs carry ids only and must be idempotent: arq runs a killed worker's job again.
Part of the composition root (it builds the engine), so it may know every capability.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.worker import Worker
from prometheus_client import start_http_server

from hub.app import CRON_JOBS, JOBS, Hub
from hub.connectors.jobs import CONNECTORS
from hub.delivery.engine import DeliveryEngine
from hub.delivery.jobs import ENGINE, engine_in

log = logging.getLogger("hub.worker")


async def noop(ctx: dict[str, Any]) -> None:
    """Does nothing: proves the queue works end to end (``/readyz`` in dev, benchmarks)."""


def serve_worker_metrics(port: int) -> None:
    """Worker processes have no HTTP API: they expose their counters on their own port."""
    if port <= 0:
        return
    try:
        start_http_server(port)
    except OSError:
        log.warning("could not serve worker metrics", extra={"port": port}, exc_info=True)


def build_worker(
    hub: Hub,
    *,
    burst: bool = False,
    max_jobs: int = 64,
    handle_signals: bool = True,
    poll_delay: float = 0.2,
) -> Worker:
    """A worker on ``hub`` (started by its owner); closing the worker closes its engine."""
    rt = hub.rt

    async def on_startup(ctx: dict[str, Any]) -> None:
        log.info("worker started", extra={"queue": rt.keys.queue})

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await engine_in(ctx).aclose()

    return Worker(
        functions=[noop, *JOBS],
        cron_jobs=list(CRON_JOBS),
        redis_pool=rt.redis,
        queue_name=rt.keys.queue,
        health_check_key=rt.keys.health_check,
        burst=burst,
        max_jobs=max_jobs,
        handle_signals=handle_signals,
        poll_delay=poll_delay,
        keep_result=0,
        keep_result_forever=False,
        ctx={"rt": rt, ENGINE: DeliveryEngine(rt), CONNECTORS: hub.connectors},
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        job_timeout=120,
        allow_abort_jobs=False,
    )
