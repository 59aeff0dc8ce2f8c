"""Admin API of subscriptions: list, get, pause, resume, delete, rotate the signing
secret, and their delivery settings and health (``hub.delivery``'s rules). Thin."""

from __future__ import annotations

from typing import Any

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from hub.admin.requests import admin_of
from hub.admin.schemas import Page
from hub.delivery import queries as delivery_queries
from hub.delivery.breaker import Breaker
from hub.delivery.schemas import (
    SubscriptionDeliveryPatch,
    SubscriptionDeliverySettings,
    SubscriptionHealth,
)
from hub.hooks import admin as admin_service
from hub.hooks.schemas import SecretRotate, SecretRotated, Status, SubscriptionView
from hub.web.query import PageLimit
from hub.web.requests import AnyRequest, body_of, optional_body_of, runtime_of

ADMIN_TAGS = ["admin"]
# The delivery settings and health are in the deliveries' part of the reference too.
DELIVERY_TAGS = ["admin", "deliveries"]


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


@get("/subscriptions/{subscription_id:str}/health", tags=DELIVERY_TAGS)
async def get_subscription_health(
    request: AnyRequest, subscription_id: FromPath[str], breaker: NamedDependency[Breaker]
) -> SubscriptionHealth:
    """A subscription's delivery health.

    Recent success rate, latency, backlog, the circuit breaker's state and whether
    it was auto-disabled.
    """
    admin = await admin_of(request)
    return await delivery_queries.subscription_health(
        runtime_of(request), admin, subscription_id, breaker
    )


@patch(
    "/subscriptions/{subscription_id:str}",
    tags=DELIVERY_TAGS,
    opt={"body": SubscriptionDeliveryPatch},
)
async def update_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionDeliverySettings:
    """Update a subscription's delivery settings.

    Its rate limit and concurrency; fields left out keep their value.
    """
    admin = await admin_of(request)
    body = await body_of(request, SubscriptionDeliveryPatch)
    return await delivery_queries.set_rate(runtime_of(request), admin, subscription_id, body)


ADMIN_ROUTES: list[Any] = [
    list_subscriptions,
    get_subscription,
    pause_subscription,
    resume_subscription,
    delete_subscription,
    rotate_subscription_secret,
    get_subscription_health,
    update_subscription,
]
