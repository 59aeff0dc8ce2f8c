"""The composition root: the one place the hub is put together.

``build_hub`` builds the infrastructure (``Runtime``), then each capability's
services, explicitly and once, into a ``Hub``; ``create_app`` turns a Hub into the
ASGI app (controllers receive the services they declare through litestar's
dependency injection); ``hub/worker/app.py`` turns one into the arq worker. Nothing
below this module knows the whole: capabilities know the kernel (``hub/web``,
``hub/store``, ``hub/security``…) and each other's services, never this file, and
``integrations/`` is imported here only.

Adding a capability means listing its routes, jobs and services here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from hub.actions import jobs as actions_jobs
from hub.actions import routes as actions_routes
from hub.actions.state import ActionsState, build_actions
from hub.admin import portal_routes
from hub.admin import routes as admin_routes
from hub.admin.tokens import ensure_bootstrap_token
from hub.clock import Clock
from hub.config import Settings
from hub.connectors import jobs as connectors_jobs
from hub.connectors import routes as connectors_routes
from hub.connectors.health import failing_probe
from hub.connectors.protocol import Connector, ConnectorRegistry
from hub.connectors.routing import ConnectorRouter
from hub.console.routes import routers as console_routers
from hub.delivery import jobs as delivery_jobs
from hub.delivery import routes as delivery_routes
from hub.delivery.breaker import Breaker
from hub.delivery.sweeper import start_gauges
from hub.events import retention as events_retention
from hub.events import routes as events_routes
from hub.events.webhooks_doc import WEBHOOK_TYPES, webhooks_document
from hub.hooks import routes as hooks_routes
from hub.runtime import Runtime, build_runtime
from hub.sanitize import routes as sanitize_routes
from hub.sanitize.startup import load_policies
from hub.tenancy import routes as tenancy_routes
from hub.tracing import Tracing
from hub.web.asgi import RequestContext
from hub.web.guard import parameter_guard
from hub.web.handlers import EXCEPTION_HANDLERS
from hub.web.health import OPERATIONS_ROUTES, Probe, Probes
from hub.web.openapi import build_openapi
from hub.web.options import with_options
from hub.web.reference import LocalSwaggerUI
from hub.web.requests import AnyRequest
from integrations.email.connector import EmailConnector
from integrations.upstream import UpstreamConnector
from integrations.whatsapp.connector import WhatsAppConnector

log = logging.getLogger("hub.app")

KEY_USAGE_FLUSH_SECONDS = 5.0

# -- what each capability contributes, in flow order ------------------------------------

_ROUTE_MODULES = (
    tenancy_routes,
    admin_routes,
    actions_routes,
    events_routes,
    hooks_routes,
    sanitize_routes,
    delivery_routes,
    connectors_routes,
    portal_routes,
)
INTEGRATION_ROUTES: tuple[Any, ...] = tuple(r for m in _ROUTE_MODULES for r in m.INTEGRATION_ROUTES)
ADMIN_ROUTES: tuple[Any, ...] = tuple(r for m in _ROUTE_MODULES for r in m.ADMIN_ROUTES)

# arq job functions (``ctx["rt"]`` is the Runtime; the worker adds the engine) and cron jobs.
JOBS: tuple[Any, ...] = delivery_jobs.JOBS
CRON_JOBS: tuple[Any, ...] = (
    *delivery_jobs.CRON_JOBS,
    actions_jobs.PURGE_CRON,
    *events_retention.CRON_JOBS,
    *connectors_jobs.CRON_JOBS,
)


# -- the hub -------------------------------------------------------------------------


@dataclass(frozen=True)
class Hub:
    """Infrastructure plus every capability's long-lived services, built once."""

    rt: Runtime
    actions: ActionsState
    breaker: Breaker
    connectors: ConnectorRegistry  # what tenants configure (PUT .../connectors/{name})
    product: UpstreamConnector  # the tenant's upstream product, the live fallback
    probes: Probes

    @property
    def settings(self) -> Settings:
        return self.rt.settings

    async def start(self) -> None:
        """What every process does once before it serves (API, worker, ``hub dev``)."""
        rt = self.rt
        if rt.settings.bootstrap_admin_token:
            await ensure_bootstrap_token(rt, rt.settings.bootstrap_admin_token)
        await load_policies(rt)
        await start_gauges(rt, self.breaker)
        rt.spawn(self.actions.replays.flush_forever())

    async def close(self) -> None:
        """Close the services, then the infrastructure (flushes what is still buffered)."""
        try:
            await self.rt.stop_background()  # no flush still running while the last one runs
            await self.actions.aclose()
            await self.connectors.aclose()
            await self.product.aclose()
        finally:
            await self.rt.close()


# The connectors a hub runs unless told otherwise: every one tenants may configure.
def default_connectors() -> list[Connector[Any]]:
    return [WhatsAppConnector(), EmailConnector()]


def assemble(rt: Runtime, *, connectors: Sequence[Connector[Any]] | None = None) -> Hub:
    """The services of a hub on ``rt`` (no I/O: ``Hub.start`` begins the work).

    ``connectors``: the ones tenants may configure (default ``default_connectors()``);
    a test passes its own to plug one in.
    """
    registry = ConnectorRegistry.of(default_connectors() if connectors is None else connectors)
    product = UpstreamConnector()
    actions = build_actions(rt, resolver=ConnectorRouter(rt, registry, product))
    probes: dict[str, Probe] = {
        "action_rate_limits": actions.limiter.readiness,
        "connectors": failing_probe(rt),
    }
    for connector in registry:
        probes.update({f"{connector.name}_{k}": p for k, p in connector.probes().items()})
    return Hub(
        rt=rt,
        actions=actions,
        breaker=Breaker(rt.redis, rt.keys),
        connectors=registry,
        product=product,
        probes=Probes(probes),
    )


async def build_hub(
    settings: Settings,
    *,
    clock: Clock | None = None,
    pool_size: int = 10,
    migrate: bool = False,
    connectors: Sequence[Connector[Any]] | None = None,
    tracing: Tracing | None = None,
) -> Hub:
    """Connect the infrastructure and assemble the services (not yet started)."""
    return assemble(
        await build_runtime(
            settings, clock=clock, pool_size=pool_size, migrate=migrate, tracing=tracing
        ),
        connectors=connectors,
    )


# -- the ASGI app ----------------------------------------------------------------------


def openapi_of(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document of ``app``: its operations and the webhooks it sends."""
    return build_openapi(app, webhooks=webhooks_document(), webhook_types=WEBHOOK_TYPES)


@get("/openapi.json", include_in_schema=False)
async def openapi_document(request: AnyRequest) -> Response[bytes]:
    cached = request.app.state.get("openapi_bytes")
    if cached is None:
        cached = msgspec.json.encode(openapi_of(request.app))
        request.app.state["openapi_bytes"] = cached
    return Response(cached, media_type="application/json")


async def _flush_key_usage_forever(rt: Runtime) -> None:
    while True:
        await asyncio.sleep(KEY_USAGE_FLUSH_SECONDS)
        try:
            await rt.key_usage.flush(rt.db)
        except Exception:
            log.warning("could not record key usage", exc_info=True)


# Each service a controller may declare as a parameter, by that parameter's name.
def _actions(state: State) -> ActionsState:
    hub: Hub = state["hub"]
    return hub.actions


def _breaker(state: State) -> Breaker:
    hub: Hub = state["hub"]
    return hub.breaker


def _probes(state: State) -> Probes:
    hub: Hub = state["hub"]
    return hub.probes


def _connectors(state: State) -> ConnectorRegistry:
    hub: Hub = state["hub"]
    return hub.connectors


_DEPENDENCIES = {
    "actions": Provide(_actions, sync_to_thread=False),
    "breaker": Provide(_breaker, sync_to_thread=False),
    "probes": Provide(_probes, sync_to_thread=False),
    "connectors": Provide(_connectors, sync_to_thread=False),
}


def build_litestar(
    settings: Settings,
    *,
    hub: Hub | None = None,
    clock: Clock | None = None,
    extra_routes: Sequence[Any] = (),
) -> Litestar:
    """The litestar app on ``hub`` (started by its owner), or on a hub its lifespan
    builds, starts and closes. ``extra_routes`` is a test seam (a route that raises)."""
    # The tracer is known before the hub is (the middleware is part of the app): the
    # given hub's, or the one the lifespan's hub will own.
    tracing = hub.rt.tracing if hub is not None else Tracing.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = hub is None
        serving = hub or await build_hub(settings, clock=clock, tracing=tracing)
        try:
            if owned:
                await serving.start()
            app.state["hub"] = serving
            app.state["rt"] = serving.rt
            serving.rt.spawn(_flush_key_usage_forever(serving.rt))
            yield
        finally:
            if owned:
                await serving.close()

    routes: list[Any] = [
        *OPERATIONS_ROUTES,
        openapi_document,
        Router("/v1", route_handlers=with_options(list(INTEGRATION_ROUTES))),
        Router("/admin/v1", route_handlers=with_options(list(ADMIN_ROUTES))),
        *console_routers(),
        *extra_routes,
    ]
    return Litestar(
        route_handlers=routes,
        # A given hub is usable at once, also without a lifespan (in-process tests).
        state=State({"hub": hub, "rt": hub.rt} if hub is not None else {}),
        dependencies=_DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[parameter_guard],
        plugins=_tracing_plugins(tracing),
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        # The reference page (/schema/swagger, also /schema) loads only the hub's own files.
        openapi_config=OpenAPIConfig(
            title="hub", version="0.1.0", path="/schema", render_plugins=[LocalSwaggerUI()]
        ),
        logging_config=None,
        debug=False,
    )


def _tracing_plugins(tracing: Tracing) -> list[Any]:
    """litestar's OpenTelemetry plugin when tracing is on; nothing (no cost) when off."""
    config = tracing.asgi_config()
    if config is None:
        return []
    from litestar.plugins.opentelemetry import OpenTelemetryPlugin

    return [OpenTelemetryPlugin(config)]


def create_app(
    settings: Settings,
    *,
    hub: Hub | None = None,
    clock: Clock | None = None,
    extra_routes: Sequence[Any] = (),
) -> RequestContext:
    """The ASGI app servers run: litestar wrapped in the request-id/metrics layer."""
    return RequestContext(build_litestar(settings, hub=hub, clock=clock, extra_routes=extra_routes))
