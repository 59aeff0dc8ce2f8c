"""Admin API of the delivery engine: deliveries, the DLQ replay, subscription health. Thin."""

from __future__ import annotations

from typing import Any

from litestar import get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from hub.admin.schemas import Page
from hub.delivery import queries
from hub.delivery.breaker import Breaker
from hub.delivery.replay import replay
from hub.delivery.schemas import (
    DeliveryDetail,
    DeliveryFilter,
    DeliveryView,
    ReplayFilter,
    ReplayRequest,
    ReplayRequestDoc,
    ReplayResult,
    Status,
    SubscriptionDeliveryPatch,
    SubscriptionDeliverySettings,
    SubscriptionHealth,
)
from hub.web.openapi import Documented
from hub.web.query import PageLimit, QueryTime, time_range
from hub.web.requests import AnyRequest, admin_of, body_of, runtime_of

TAGS = ["admin", "deliveries"]


@get("/deliveries", tags=TAGS)
async def list_deliveries(
    request: AnyRequest,
    status: FromQuery[Status | None] = None,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    subscription_id: FromQuery[str | None] = None,
    event_type: FromQuery[str | None] = None,
    error_class: FromQuery[str | None] = None,
    since: QueryTime = None,
    until: QueryTime = None,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[DeliveryView]:
    """List deliveries.

    Newest first, filtered by status (the dead-letter queue is `status=dead`),
    tenant, integration, subscription, event type, error class and creation time;
    paged by `next_cursor`.
    """
    admin = await admin_of(request)
    since_at, until_at = time_range(since, until)
    flt = DeliveryFilter(
        status=status,
        tenant_id=tenant_id,
        integration_id=integration_id,
        subscription_id=subscription_id,
        event_type=event_type,
        error_class=error_class,
        since=since_at,
        until=until_at,
    )
    items = await queries.list_deliveries(
        runtime_of(request), admin, flt, before_id=cursor, limit=limit
    )
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@get("/deliveries/{delivery_id:str}", tags=TAGS)
async def get_delivery(request: AnyRequest, delivery_id: FromPath[str]) -> DeliveryDetail:
    """Get a delivery with its attempts.

    Each attempt's time, status, duration and error class (never the receiver's
    body).
    """
    admin = await admin_of(request)
    return await queries.get_delivery(runtime_of(request), admin, delivery_id)


@post(
    "/deliveries/replay",
    status_code=200,
    tags=TAGS,
    opt={"body": Documented(ReplayRequestDoc), "schemas": (ReplayFilter,)},
)
async def replay_deliveries(request: AnyRequest) -> ReplayResult:
    """Replay deliveries (the dead-letter queue).

    By `ids` or by a `filter` (exactly one of them); each replayed delivery keeps
    its id (the `webhook-id` receivers dedupe on) and is tried again with a fresh
    retry budget.
    """
    admin = await admin_of(request)
    body = await body_of(request, ReplayRequest)
    return await replay(runtime_of(request), admin, body)


@get("/subscriptions/{subscription_id:str}/health", tags=TAGS)
async def get_subscription_health(
    request: AnyRequest, subscription_id: FromPath[str], breaker: NamedDependency[Breaker]
) -> SubscriptionHealth:
    """A subscription's delivery health.

    Recent success rate, latency, backlog, the circuit breaker's state and whether
    it was auto-disabled.
    """
    admin = await admin_of(request)
    return await queries.subscription_health(runtime_of(request), admin, subscription_id, breaker)


@patch("/subscriptions/{subscription_id:str}", tags=TAGS, opt={"body": SubscriptionDeliveryPatch})
async def update_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionDeliverySettings:
    """Update a subscription's delivery settings.

    Its rate limit and concurrency; fields left out keep their value.
    """
    admin = await admin_of(request)
    body = await body_of(request, SubscriptionDeliveryPatch)
    return await queries.set_rate(runtime_of(request), admin, subscription_id, body)


INTEGRATION_ROUTES: list[Any] = []
ADMIN_ROUTES: list[Any] = [
    list_deliveries,
    get_delivery,
    replay_deliveries,
    get_subscription_health,
    update_subscription,
]
