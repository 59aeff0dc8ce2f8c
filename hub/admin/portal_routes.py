"""Admin API of the portal: issuing and revoking portal links. Thin."""

from __future__ import annotations

from typing import Any

from litestar import delete, post
from litestar.params import FromPath

from hub.admin.portal_links import PortalLink, PortalLinkCreate, create_link, revoke_link
from hub.admin.requests import admin_of
from hub.web.requests import AnyRequest, optional_body_of, runtime_of

TAGS = ["admin", "portal"]


@post(
    "/integrations/{integration_id:str}/portal-links",
    status_code=201,
    tags=TAGS,
    opt={"body": PortalLinkCreate},
)
async def create_portal_link(request: AnyRequest, integration_id: FromPath[str]) -> PortalLink:
    """Create a portal link.

    A signed link (default TTL 1 hour) that opens the integration portal for this one
    integration: its subscriptions, its deliveries' sanitized bodies, replay of its
    dead deliveries, secret rotation. Shown only in this answer; audited.
    """
    admin = await admin_of(request)
    body = await optional_body_of(request, PortalLinkCreate)
    return await create_link(runtime_of(request), admin, integration_id, body)


@delete("/portal-links/{link_id:str}", status_code=204, tags=TAGS)
async def revoke_portal_link(request: AnyRequest, link_id: FromPath[str]) -> None:
    """Revoke a portal link: it, and every portal session it opened, stop at once."""
    admin = await admin_of(request)
    await revoke_link(runtime_of(request), admin, link_id)


INTEGRATION_ROUTES: list[Any] = []
ADMIN_ROUTES: list[Any] = [create_portal_link, revoke_portal_link]
