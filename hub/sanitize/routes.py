"""Admin routes of the sanitizer: the effective policy and a dry run."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery

from hub.admin.requests import admin_of
from hub.sanitize import service
from hub.sanitize.schemas import PolicyView, PreviewRequest, PreviewResult
from hub.web.requests import AnyRequest, body_of, runtime_of

TAGS = ["admin"]


@get(
    "/policies/{event_type:str}",
    tags=TAGS,
    summary="The policy of an event type, narrowed by an integration's override if given",
)
async def get_policy(
    request: AnyRequest, event_type: FromPath[str], integration_id: FromQuery[str | None] = None
) -> PolicyView:
    admin = await admin_of(request)
    return await service.effective_policy(runtime_of(request), admin, event_type, integration_id)


@post(
    "/policies/{event_type:str}/preview",
    status_code=200,
    tags=TAGS,
    summary="Sanitize a payload as a delivery to an integration would (dry run)",
    opt={"body": PreviewRequest},
)
async def preview_policy(request: AnyRequest, event_type: FromPath[str]) -> PreviewResult:
    admin = await admin_of(request)
    body = await body_of(request, PreviewRequest)
    return await service.preview(runtime_of(request), admin, event_type, body)


INTEGRATION_ROUTES: list[Any] = []
ADMIN_ROUTES: list[Any] = [get_policy, preview_policy]
