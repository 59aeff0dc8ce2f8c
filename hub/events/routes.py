"""HTTP routes of the events capability: publish, and samples for the platforms."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery

from hub.events import ingest
from hub.events.samples import samples
from hub.events.schemas import MAX_BODY_BYTES, EventBatchDoc, PublishResult
from hub.web.decoding import check_json_content_type
from hub.web.errors import ProblemError
from hub.web.requests import AnyRequest, integration_of, runtime_of

TAGS = ["events"]


@post(
    "/events",
    status_code=202,
    tags=TAGS,
    summary="Publish a batch of up to 500 events (or one event object on its own)",
    description="202 only once the events are durable; one bad item never sinks the "
    'batch. The body is {"events": [...]} or a single event object.',
    opt={"body": EventBatchDoc},
)
async def publish_events(request: AnyRequest) -> PublishResult:
    principal = await integration_of(request)
    principal.require_scope("events:publish")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ProblemError("PAYLOAD_TOO_LARGE", f"send at most {MAX_BODY_BYTES} bytes per request")
    check_json_content_type(request.headers.get("content-type"))
    items = ingest.split_items(raw)
    return await ingest.publish(
        runtime_of(request),
        tenant_id=principal.tenant_id,
        integration_id=principal.integration_id,
        # What a sandbox integration publishes is sandbox traffic.
        sandbox=principal.sandbox,
        items=items,
    )


@get(
    "/events/{event_type:str}/samples",
    tags=TAGS,
    summary="Recent events of a type, in the delivered shape (Zapier performList)",
)
async def event_samples(
    request: AnyRequest, event_type: FromPath[str], limit: FromQuery[int] = 3
) -> Response[bytes]:
    principal = await integration_of(request)
    principal.require_scope(f"triggers:{event_type}")
    body = await samples(runtime_of(request), principal, event_type, limit)
    return Response(body, media_type="application/json")


INTEGRATION_ROUTES: list[Any] = [publish_events, event_samples]
ADMIN_ROUTES: list[Any] = []
