"""Admin API of the delivery engine: deliveries, the DLQ replay, subscription health. Thin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import get, patch, post
from litestar.params import FromPath, FromQuery

from hub.admin.schemas import Page
from hub.delivery import queries
from hub.delivery.breaker import Breaker
from hub.delivery.replay import replay
from hub.delivery.schemas import (
    DeliveryDetail,
    DeliveryFilter,
    DeliveryView,
    ReplayRequest,
    ReplayResult,
    Status,
    SubscriptionDeliveryPatch,
    SubscriptionDeliverySettings,
    SubscriptionHealth,
)
from hub.runtime import Runtime
from hub.web.requests import AnyRequest, admin_of, body_of, runtime_of

TAGS = ["admin", "deliveries"]


def _breaker(rt: Runtime) -> Breaker:
    breaker = rt.extras.get("delivery.breaker")
    if breaker is None:
        breaker = Breaker(rt.redis, rt.keys)
        rt.extras["delivery.breaker"] = breaker
    assert isinstance(breaker, Breaker)
    return breaker


@get("/deliveries", tags=TAGS)
async def list_deliveries(
    request: AnyRequest,
    status: FromQuery[Status | None] = None,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    subscription_id: FromQuery[str | None] = None,
    event_type: FromQuery[str | None] = None,
    error_class: FromQuery[str | None] = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[int] = 100,
) -> Page[DeliveryView]:
    admin = await admin_of(request)
    flt = DeliveryFilter(
        status=status,
        tenant_id=tenant_id,
        integration_id=integration_id,
        subscription_id=subscription_id,
        event_type=event_type,
        error_class=error_class,
        since=since,
        until=until,
    )
    limit = max(1, min(limit, 500))
    items = await queries.list_deliveries(
        runtime_of(request), admin, flt, before_id=cursor, limit=limit
    )
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@get("/deliveries/{delivery_id:str}", tags=TAGS)
async def get_delivery(request: AnyRequest, delivery_id: FromPath[str]) -> DeliveryDetail:
    admin = await admin_of(request)
    return await queries.get_delivery(runtime_of(request), admin, delivery_id)


@post("/deliveries/replay", status_code=200, tags=TAGS, opt={"body": ReplayRequest})
async def replay_deliveries(request: AnyRequest) -> ReplayResult:
    admin = await admin_of(request)
    body = await body_of(request, ReplayRequest)
    return await replay(runtime_of(request), admin, body)


@get("/subscriptions/{subscription_id:str}/health", tags=TAGS)
async def subscription_health(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionHealth:
    admin = await admin_of(request)
    rt = runtime_of(request)
    return await queries.subscription_health(rt, admin, subscription_id, _breaker(rt))


@patch("/subscriptions/{subscription_id:str}", tags=TAGS, opt={"body": SubscriptionDeliveryPatch})
async def patch_subscription(
    request: AnyRequest, subscription_id: FromPath[str]
) -> SubscriptionDeliverySettings:
    admin = await admin_of(request)
    body = await body_of(request, SubscriptionDeliveryPatch)
    return await queries.set_rate(runtime_of(request), admin, subscription_id, body)


INTEGRATION_ROUTES: list[Any] = []
ADMIN_ROUTES: list[Any] = [
    list_deliveries,
    get_delivery,
    replay_deliveries,
    subscription_health,
    patch_subscription,
]
