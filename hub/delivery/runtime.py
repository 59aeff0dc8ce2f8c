"""The engine a process keeps on its Runtime (one HTTP client, one breaker, ...)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hub.delivery.engine import DeliveryEngine

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger("hub.delivery")

_EXTRA = "delivery"
_metrics_port_started: set[int] = set()


def engine_of(rt: Runtime) -> DeliveryEngine:
    engine = rt.extras.get(_EXTRA)
    if engine is None:
        engine = DeliveryEngine(rt)
        rt.extras[_EXTRA] = engine
        _serve_worker_metrics(rt.settings.worker_metrics_port)
    assert isinstance(engine, DeliveryEngine)
    return engine


def _serve_worker_metrics(port: int) -> None:
    """Worker processes have no HTTP API: expose their counters on their own port."""
    if port <= 0 or port in _metrics_port_started:
        return
    from prometheus_client import start_http_server

    try:
        start_http_server(port)
    except OSError:
        log.warning("could not serve worker metrics", extra={"port": port}, exc_info=True)
        return
    _metrics_port_started.add(port)
