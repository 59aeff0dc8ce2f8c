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
    summary="Subscribe (201 created; 200 when this event and target are already subscribed)",
    opt={"body": HookCreate},
)
async def subscribe(request: AnyRequest) -> Response[HookCreated]:
    principal = await integration_of(request)
    body = await body_of(request, HookCreate)
    hook, created = await service.subscribe(runtime_of(request), principal, body)
    return Response(hook, status_code=201 if created else 200)


@get("/hooks", tags=TAGS, summary="This integration's subscriptions")
async def list_hooks(request: AnyRequest) -> Page[HookView]:
    principal = await integration_of(request)
    return Page(items=await service.list_hooks(runtime_of(request), principal))


@get("/hooks/{hook_id:str}", tags=TAGS)
async def get_hook(request: AnyRequest, hook_id: FromPath[str]) -> HookView:
    principal = await integration_of(request)
    return await service.get_hook(runtime_of(request), principal, hook_id)


@delete("/hooks/{hook_id:str}", status_code=204, tags=TAGS, summary="Unsubscribe (repeatable)")
async def unsubscribe(request: AnyRequest, hook_id: FromPath[str]) -> None:
    principal = await integration_of(request)
    await service.unsubscribe(runtime_of(request), principal, hook_id)


# -- admin -----------------------------------------------------------------------------


@get("/subscriptions", tags=ADMIN_TAGS)
async def admin_list_subscriptions(
    request: AnyRequest,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    status: FromQuery[Status | None] = None,
    event_type: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[int] = 100,
) -> Page[SubscriptionView]:
    admin = await admin_of(request)
    limit = max(1, min(limit, 500))
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
async def admin_get_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionView:
    admin = await admin_of(request)
    return await admin_service.get_subscription(runtime_of(request), admin, subscription_id)


@post("/subscriptions/{subscription_id:str}/pause", status_code=200, tags=ADMIN_TAGS)
async def admin_pause_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionView:
    admin = await admin_of(request)
    return await admin_service.set_paused(runtime_of(request), admin, subscription_id, paused=True)


@post(
    "/subscriptions/{subscription_id:str}/resume",
    status_code=200,
    tags=ADMIN_TAGS,
    summary="Resume a paused or auto-disabled subscription",
)
async def admin_resume_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionView:
    admin = await admin_of(request)
    return await admin_service.set_paused(runtime_of(request), admin, subscription_id, paused=False)


@delete("/subscriptions/{subscription_id:str}", status_code=204, tags=ADMIN_TAGS)
async def admin_delete_subscription(request: AnyRequest, subscription_id: FromPath[str]) -> None:
    admin = await admin_of(request)
    await admin_service.delete_subscription(runtime_of(request), admin, subscription_id)


@post(
    "/subscriptions/{subscription_id:str}/secrets/rotate",
    status_code=201,
    tags=ADMIN_TAGS,
    summary="New signing secret; the previous ones keep signing for the grace period",
    opt={"body": SecretRotate},
)
async def admin_rotate_secret(request: AnyRequest, subscription_id: FromPath[str]) -> SecretRotated:
    admin = await admin_of(request)
    body = await optional_body_of(request, SecretRotate)
    return await admin_service.rotate_secret(runtime_of(request), admin, subscription_id, body)


INTEGRATION_ROUTES: list[Any] = [subscribe, list_hooks, get_hook, unsubscribe]
ADMIN_ROUTES: list[Any] = [
    admin_list_subscriptions,
    admin_get_subscription,
    admin_pause_subscription,
    admin_resume_subscription,
    admin_delete_subscription,
    admin_rotate_secret,
]
