"""Admin API of the delivery engine: deliveries and the DLQ replay. Thin.

A subscription's delivery settings and health are served with the other subscription
routes (``hub/hooks/admin_routes.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import FromPath, FromQuery, Parameter

from hub.admin.requests import admin_of
from hub.admin.schemas import Page
from hub.delivery import queries
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
)
from hub.web.openapi import Documented
from hub.web.patterns import HOST_NAME
from hub.web.query import PageLimit, QueryTime, time_range
from hub.web.requests import AnyRequest, body_of, runtime_of

TAGS = ["admin", "deliveries"]

TargetHost = Annotated[
    str | None,
    Parameter(
        pattern=HOST_NAME,
        max_length=253,
        description="the subscription's target host, e.g. hooks.zapier.com (any scheme, port)",
    ),
]


@get("/deliveries", tags=TAGS)
async def list_deliveries(
    request: AnyRequest,
    status: FromQuery[Status | None] = None,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    subscription_id: FromQuery[str | None] = None,
    event_type: FromQuery[str | None] = None,
    error_class: FromQuery[str | None] = None,
    target_host: TargetHost = None,
    since: QueryTime = None,
    until: QueryTime = None,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[DeliveryView]:
    """List deliveries.

    Newest first, filtered by status (the dead-letter queue is `status=dead`),
    tenant, integration, subscription, event type, error class, the subscription's
    target host (`target_host=hooks.zapier.com`, any scheme or port) and creation time;
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
        target_host=target_host,
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


INTEGRATION_ROUTES: list[Any] = []
ADMIN_ROUTES: list[Any] = [
    list_deliveries,
    get_delivery,
    replay_deliveries,
]
