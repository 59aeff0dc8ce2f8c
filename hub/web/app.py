"""The ASGI application: routes of every capability, problems, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
from litestar import Litestar, Response, Router, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from hub import capabilities
from hub.admin.tokens import ensure_bootstrap_token
from hub.clock import Clock
from hub.config import Settings
from hub.runtime import Runtime, build_runtime
from hub.web.asgi import RequestContext
from hub.web.handlers import EXCEPTION_HANDLERS
from hub.web.health import OPERATIONS_ROUTES
from hub.web.openapi import build_openapi
from hub.web.requests import AnyRequest

log = logging.getLogger("hub.web")

KEY_USAGE_FLUSH_SECONDS = 5.0


@get("/openapi.json", include_in_schema=False)
async def openapi_document(request: AnyRequest) -> Response[bytes]:
    cached = request.app.state.get("openapi_bytes")
    if cached is None:
        cached = msgspec.json.encode(build_openapi(request.app))
        request.app.state["openapi_bytes"] = cached
    return Response(cached, media_type="application/json")


async def _flush_key_usage_forever(rt: Runtime) -> None:
    while True:
        await asyncio.sleep(KEY_USAGE_FLUSH_SECONDS)
        try:
            await rt.key_usage.flush(rt.db)
        except Exception:
            log.warning("could not record key usage", exc_info=True)


async def start_runtime(rt: Runtime) -> None:
    """What every API process does once before it answers (also used by ``hub dev``)."""
    if rt.settings.bootstrap_admin_token:
        await ensure_bootstrap_token(rt, rt.settings.bootstrap_admin_token)
    for hook in capabilities.STARTUP:
        await hook(rt)


def build_litestar(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    clock: Clock | None = None,
    extra_routes: Sequence[Any] = (),
) -> Litestar:
    """The litestar app. ``extra_routes`` is a test seam (e.g. a route that raises)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or await build_runtime(settings, clock=clock)
        try:
            if owned:
                await start_runtime(rt)
            app.state["rt"] = rt
            rt.spawn(_flush_key_usage_forever(rt))
            yield
        finally:
            if owned:
                await rt.close()

    routes: list[Any] = [
        *OPERATIONS_ROUTES,
        openapi_document,
        Router("/v1", route_handlers=capabilities.integration_routes()),
        Router("/admin/v1", route_handlers=capabilities.admin_routes_all()),
        *extra_routes,
    ]
    return Litestar(
        route_handlers=routes,
        # A given runtime is usable at once, also without a lifespan (in-process tests).
        state=State({"rt": runtime} if runtime is not None else {}),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="hub", version="0.1.0", path="/schema", render_plugins=[SwaggerRenderPlugin()]
        ),
        logging_config=None,
        debug=False,
    )


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    clock: Clock | None = None,
    extra_routes: Sequence[Any] = (),
) -> RequestContext:
    """The ASGI app servers run: litestar wrapped in the request-id/metrics layer."""
    return RequestContext(
        build_litestar(settings, runtime=runtime, clock=clock, extra_routes=extra_routes)
    )
