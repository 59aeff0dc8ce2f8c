"""HTTP routes of the hooks capability: REST-hook subscribe/unsubscribe for the
platforms (``/v1/hooks``) and subscription management for admins."""

from __future__ import annotations

from typing import Any

from litestar import Response, delete, get, post
from litestar.params import FromPath, FromQuery

from hub.admin.schemas import Page
from hub.hooks import admin as admin_service
from hub.hooks import service
from hub.hooks.schemas import (
    HookCreate,
    HookCreated,
    HookView,
    SecretRotate,
    SecretRotated,
    Status,
    SubscriptionView,
)
from hub.web.query import PageLimit
from hub.web.requests import (
    AnyRequest,
    admin_of,
    body_of,
    integration_of,
    optional_body_of,
    runtime_of,
)

TAGS = ["hooks"]
ADMIN_TAGS = ["admin"]


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


# -- admin -----------------------------------------------------------------------------


@get("/subscriptions", tags=ADMIN_TAGS)
async def list_subscriptions(
    request: AnyRequest,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    status: FromQuery[Status | None] = None,
    event_type: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[SubscriptionView]:
    """List subscriptions.

    Every tenant's (a tenant admin token: its own), filtered by tenant, integration,
    status and event type, newest first; paged by `next_cursor`.
    """
    admin = await admin_of(request)
    items = await admin_service.list_subscriptions(
        runtime_of(request),
        admin,
        tenant_id=tenant_id,
        integration_id=integration_id,
        status=status,
        event_type=event_type,
        before_id=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@get("/subscriptions/{subscription_id:str}", tags=ADMIN_TAGS)
async def get_subscription(request: AnyRequest, subscription_id: FromPath[str]) -> SubscriptionView:
    """Get a subscription.

    Its target, event type, status, delivery settings and secrets' ids (never the
    secrets).
    """
    admin = await admin_of(request)
    return await admin_service.get_subscription(runtime_of(request), admin, subscription_id)


@post(
    "/subscriptions/{subscription_id:str}/pause",
    status_code=200,
    tags=ADMIN_TAGS,
    opt={"errors": ("CONFLICT",)},
)
async def pause_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionView:
    """Pause a subscription.

    Deliveries wait (nothing is dropped) until it is resumed.
    """
    admin = await admin_of(request)
    return await admin_service.set_paused(runtime_of(request), admin, subscription_id, paused=True)


@post(
    "/subscriptions/{subscription_id:str}/resume",
    status_code=200,
    tags=ADMIN_TAGS,
    opt={"errors": ("CONFLICT",)},
)
async def resume_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionView:
    """Resume a paused or auto-disabled subscription.

    Waiting deliveries go out again; the circuit breaker starts closed.
    """
    admin = await admin_of(request)
    return await admin_service.set_paused(runtime_of(request), admin, subscription_id, paused=False)


@delete("/subscriptions/{subscription_id:str}", status_code=204, tags=ADMIN_TAGS)
async def delete_subscription(request: AnyRequest, subscription_id: FromPath[str]) -> None:
    """Delete a subscription.

    Its pending deliveries are cancelled; repeatable.
    """
    admin = await admin_of(request)
    await admin_service.delete_subscription(runtime_of(request), admin, subscription_id)


@post(
    "/subscriptions/{subscription_id:str}/secrets/rotate",
    status_code=201,
    tags=ADMIN_TAGS,
    opt={"body": SecretRotate, "body_optional": True, "errors": ("CONFLICT",)},
)
async def rotate_subscription_secret(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SecretRotated:
    """Rotate a subscription's signing secret.

    A new secret signs every delivery from now on; the previous ones keep signing
    beside it for `grace_seconds`, so receivers can switch without a gap.
    """
    admin = await admin_of(request)
    body = await optional_body_of(request, SecretRotate)
    return await admin_service.rotate_secret(runtime_of(request), admin, subscription_id, body)


INTEGRATION_ROUTES: list[Any] = [create_hook, list_hooks, get_hook, delete_hook]
ADMIN_ROUTES: list[Any] = [
    list_subscriptions,
    get_subscription,
    pause_subscription,
    resume_subscription,
    delete_subscription,
    rotate_subscription_secret,
]
