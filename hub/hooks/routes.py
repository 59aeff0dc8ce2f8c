"""HTTP routes of the hooks capability: REST-hook subscribe/unsubscribe for the
platforms (``/v1/hooks``) and subscription management for admins (``admin_routes.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Response, delete, get, post
from litestar.params import FromPath

from hub.admin.schemas import Page
from hub.hooks import admin_routes, service
from hub.hooks.schemas import HookCreate, HookCreated, HookView
from hub.tenancy.requests import integration_of
from hub.web.requests import AnyRequest, body_of, runtime_of

TAGS = ["hooks"]


@post(
    "/hooks",
    status_code=201,
    tags=TAGS,
    opt={
        "body": HookCreate,
        "errors": ("FORBIDDEN_SCOPE", "TARGET_NOT_ALLOWED", "CONFLICT"),
        "also": {200: "Already subscribed: the existing subscription (and its secret)"},
    },
)
async def create_hook(request: AnyRequest) -> Response[HookCreated]:
    """Subscribe a target URL to an event type (REST hook).

    201 with the new subscription and its signing secret; 200 with the existing one
    when this event type and target are already subscribed (a retried subscribe is
    harmless). The target passes the SSRF guard (422 `TARGET_NOT_ALLOWED`). Needs
    the scope `triggers:<event type>`.
    """
    principal = await integration_of(request)
    body = await body_of(request, HookCreate)
    hook, created = await service.subscribe(runtime_of(request), principal, body)
    return Response(hook, status_code=201 if created else 200)


@get("/hooks", tags=TAGS)
async def list_hooks(request: AnyRequest) -> Page[HookView]:
    """This integration's subscriptions.

    Every REST-hook subscription of the calling integration.
    """
    principal = await integration_of(request)
    return Page(items=await service.list_hooks(runtime_of(request), principal))


@get("/hooks/{hook_id:str}", tags=TAGS)
async def get_hook(request: AnyRequest, hook_id: FromPath[str]) -> HookView:
    """Get a subscription of this integration.

    Another integration's subscription is 404.
    """
    principal = await integration_of(request)
    return await service.get_hook(runtime_of(request), principal, hook_id)


@delete("/hooks/{hook_id:str}", status_code=204, tags=TAGS)
async def delete_hook(request: AnyRequest, hook_id: FromPath[str]) -> None:
    """Unsubscribe (repeatable).

    204 whether or not the subscription still existed, so a retried unsubscribe is
    harmless; nothing more is delivered to it.
    """
    principal = await integration_of(request)
    await service.unsubscribe(runtime_of(request), principal, hook_id)


INTEGRATION_ROUTES: list[Any] = [create_hook, list_hooks, get_hook, delete_hook]
ADMIN_ROUTES: list[Any] = list(admin_routes.ADMIN_ROUTES)
