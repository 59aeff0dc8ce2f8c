"""``hub dev``, ``hub serve``, ``hub worker``, ``hub migrate``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from typing import Any

from redis.exceptions import RedisError

from hub.app import build_hub
from hub.config import load_settings
from hub.kv.connection import require_embedded_extra
from hub.logs import configure_logging
from hub.store.engine import Database
from hub.store.migrate import ensure_migrated, upgrade
from hub.worker.app import build_worker, serve_worker_metrics

log = logging.getLogger("hub.cli")


def register(sub: Any) -> None:
    dev = sub.add_parser(
        "dev",
        help="embedded mode: SQLite + in-process Redis, API and worker in one process",
        description="Run the whole hub in one process with nothing to install: a SQLite "
        "file and an in-process Redis under .hub/ (HUB_STATE_DIR). Migrates itself, "
        "creates a demo tenant and sandbox integration on first run, and prints "
        "copy-paste curl lines.",
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.set_defaults(func=_dev)

    serve = sub.add_parser(
        "serve",
        help="serve the API with granian (production)",
        description="Serve the HTTP API. Refuses an unmigrated database (run `hub migrate`).",
    )
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server binds all interfaces
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="granian worker processes")
    serve.set_defaults(func=_serve)

    worker = sub.add_parser(
        "worker",
        help="run an arq worker (deliveries, retries, sweeps, purges)",
        description="Run one worker process; start as many as you need on any hosts.",
    )
    worker.add_argument("--max-jobs", type=int, default=64, help="jobs run concurrently")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.set_defaults(func=_worker)

    migrate = sub.add_parser(
        "migrate",
        help="apply database migrations",
        description="Bring the database (HUB_DATABASE_URL) to the code's schema.",
    )
    migrate.set_defaults(func=_migrate)


def _migrate(_args: argparse.Namespace) -> int:
    settings = load_settings()

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(run())
    print("database migrated")
    return 0


def _check_migrated(database_url: str) -> None:
    async def run() -> None:
        db = Database(database_url)
        try:
            await ensure_migrated(db)
        finally:
            await db.dispose()

    asyncio.run(run())


def _serve(args: argparse.Namespace) -> int:
    from granian import Granian

    settings = load_settings()
    configure_logging(settings.log_level)
    _check_migrated(settings.database_url)
    Granian(
        "hub.server:app",
        address=args.host,
        port=args.port,
        interface="asgi",  # type: ignore[arg-type]
        workers=args.workers,
        log_access=False,
    ).serve()
    return 0


def _worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    serve_worker_metrics(settings.worker_metrics_port)

    async def run() -> None:
        hub = await build_hub(settings)
        try:
            await hub.start()
            backoff = 0.5
            while True:
                worker = build_worker(hub, burst=args.burst, max_jobs=args.max_jobs)
                try:
                    # async_run (not main) gives arq's SIGTERM/SIGINT handler a task to cancel.
                    await worker.async_run()
                    return
                except asyncio.CancelledError:
                    log.info("worker stopped by signal")
                    return
                except (RedisError, OSError):
                    # arq gives up when Redis goes away; Postgres holds every delivery and
                    # the sweeper re-finds them, so the process waits for Redis and
                    # starts a fresh arq worker instead of exiting.
                    log.warning("redis lost: the worker starts again", exc_info=True)
                finally:
                    with contextlib.suppress(RedisError, OSError):
                        await worker.close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
        finally:
            await hub.close()

    asyncio.run(run())
    return 0


def _dev(args: argparse.Namespace) -> int:
    require_embedded_extra()
    # Imported here: uvicorn (and fakeredis) come with the `embedded` extra, which
    # production installs leave out.
    from hub.cli.devmode import run_dev

    os.environ.setdefault("HUB_ALLOW_PRIVATE_TARGETS", "1")
    settings = load_settings()
    configure_logging(settings.log_level)
    # Ctrl-C is how hub dev is meant to stop; everything was closed on the way out.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_dev(settings, host=args.host, port=args.port))
    return 0
