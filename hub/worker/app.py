"""The arq worker: the capabilities' jobs with the Runtime in ``ctx["rt"]``.

Jobs carry ids only and must be idempotent: arq runs a killed worker's job again.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.worker import Worker

from hub import capabilities
from hub.runtime import Runtime

log = logging.getLogger("hub.worker")


async def noop(ctx: dict[str, Any]) -> None:
    """Does nothing: proves the queue works end to end (``/readyz`` in dev, benchmarks)."""


def build_worker(
    rt: Runtime,
    *,
    burst: bool = False,
    max_jobs: int = 64,
    handle_signals: bool = True,
    poll_delay: float = 0.2,
) -> Worker:
    async def on_startup(ctx: dict[str, Any]) -> None:
        log.info("worker started", extra={"queue": rt.keys.queue})

    return Worker(
        functions=[noop, *capabilities.JOBS],
        cron_jobs=capabilities.CRON_JOBS or None,
        redis_pool=rt.redis,
        queue_name=rt.keys.queue,
        health_check_key=rt.keys.health_check,
        burst=burst,
        max_jobs=max_jobs,
        handle_signals=handle_signals,
        poll_delay=poll_delay,
        keep_result=0,
        keep_result_forever=False,
        ctx={"rt": rt},
        on_startup=on_startup,
        job_timeout=120,
        allow_abort_jobs=False,
    )
