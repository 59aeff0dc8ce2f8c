"""The capabilities, in flow order: their routes, their start-up, their worker jobs.

Adding a capability means adding it here; nothing else discovers modules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hub.actions import routes as actions_routes
from hub.admin import routes as admin_routes
from hub.delivery import jobs as delivery_jobs
from hub.delivery import routes as delivery_routes
from hub.events import routes as events_routes
from hub.hooks import routes as hooks_routes
from hub.runtime import Runtime
from hub.sanitize import routes as sanitize_routes
from hub.tenancy import routes as tenancy_routes

_ROUTE_MODULES: list[Any] = [
    tenancy_routes,
    admin_routes,
    actions_routes,
    events_routes,
    hooks_routes,
    sanitize_routes,
    delivery_routes,
]


def integration_routes() -> list[Any]:
    return [r for m in _ROUTE_MODULES for r in m.INTEGRATION_ROUTES]


def admin_routes_all() -> list[Any]:
    return [r for m in _ROUTE_MODULES for r in m.ADMIN_ROUTES]


# Called once per process after the runtime is built (API and worker alike).
STARTUP: list[Callable[[Runtime], Awaitable[None]]] = []

# arq job functions (coroutines taking ``ctx`` first; ``ctx["rt"]`` is the Runtime)
# and cron jobs, contributed by each capability.
JOBS: list[Any] = []
CRON_JOBS: list[Any] = []
STARTUP += delivery_jobs.STARTUP
JOBS += delivery_jobs.JOBS
CRON_JOBS += delivery_jobs.CRON_JOBS

# Actions (issue 3): idempotency store, limiter, handlers; the upstream product's client.
from hub.actions import jobs as actions_jobs  # noqa: E402
from hub.actions.state import start_actions  # noqa: E402
from integrations import upstream as upstream_integration  # noqa: E402

STARTUP += [start_actions, upstream_integration.attach]
CRON_JOBS += [actions_jobs.PURGE_CRON]

# Events, hooks, sanitizer (issue 4): policies load (and are checked) at start;
# retention purges raw event payloads and finished deliveries' bodies.
from hub.events import retention as events_retention  # noqa: E402
from hub.sanitize.startup import load_policies  # noqa: E402

STARTUP += [load_policies]
CRON_JOBS += events_retention.CRON_JOBS
