"""HTTP routes of the events capability: publish, and samples for the platforms."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, post
from litestar.params import FromPath, Parameter

from hub.events import ingest
from hub.events.samples import MAX_SAMPLES, samples
from hub.events.schemas import (
    MAX_BODY_BYTES,
    DeliveredBody,
    EventBatchDoc,
    EventDoc,
    PublishBodyDoc,
    PublishResult,
)
from hub.tenancy.requests import integration_of
from hub.web.decoding import check_json_content_type
from hub.web.errors import ProblemError
from hub.web.openapi import Documented
from hub.web.requests import AnyRequest, runtime_of

TAGS = ["events"]
SampleLimit = Annotated[
    int, Parameter(ge=1, le=MAX_SAMPLES, description=f"how many, 1 to {MAX_SAMPLES}")
]


@post(
    "/events",
    status_code=202,
    tags=TAGS,
    opt={
        "body": Documented(PublishBodyDoc),
        "schemas": (EventBatchDoc, EventDoc),
        "errors": ("FORBIDDEN_SCOPE",),
        "success": "Accepted: every accepted event is durable; `rejected` lists the others",
    },
)
async def publish_events(request: AnyRequest) -> PublishResult:
    """Publish a batch of up to 500 events (or one event object on its own).

    202 only once the accepted events are durable; one bad item never sinks the batch
    (it is listed in `rejected` with its index and code). An event id already published
    by this integration is accepted again without a second delivery. Needs the scope
    `events:publish`.
    """
    principal = await integration_of(request)
    principal.require_scope("events:publish")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ProblemError("PAYLOAD_TOO_LARGE", f"send at most {MAX_BODY_BYTES} bytes per request")
    check_json_content_type(request.headers.get("content-type"))
    items, deep = ingest.split_items(raw)
    return await ingest.publish(
        runtime_of(request),
        tenant_id=principal.tenant_id,
        integration_id=principal.integration_id,
        # What a sandbox integration publishes is sandbox traffic.
        sandbox=principal.sandbox,
        items=items,
        deep=deep,
    )


@get(
    "/events/{event_type:str}/samples",
    tags=TAGS,
    opt={"response": list[DeliveredBody], "errors": ("FORBIDDEN_SCOPE",)},
)
async def list_event_samples(
    request: AnyRequest, event_type: FromPath[str], limit: SampleLimit = 3
) -> Response[bytes]:
    """Recent events of a type, in the delivered shape.

    What a subscriber of this event type would receive (sanitized by the
    integration's policy), newest first: the Zapier trigger's sample (performList).
    Needs the scope `triggers:<event type>`.
    """
    principal = await integration_of(request)
    principal.require_scope(f"triggers:{event_type}")
    body = await samples(runtime_of(request), principal, event_type, limit)
    return Response(body, media_type="application/json")


INTEGRATION_ROUTES: list[Any] = [publish_events, list_event_samples]
ADMIN_ROUTES: list[Any] = []
