"""HTTP routes of tenancy: ``/v1/me`` (what the Zapier and Make apps call to test and
label a connection) and the admin API of tenants, integrations and keys
(``admin_routes.py``)."""

from __future__ import annotations

from typing import Any

from litestar import get

from hub.tenancy import admin_routes
from hub.tenancy.requests import integration_of
from hub.tenancy.schemas import Me
from hub.web.requests import AnyRequest


@get("/me", tags=["integration"])
async def get_me(request: AnyRequest) -> Me:
    """The calling integration.

    Its tenant, kind, mode (live or sandbox) and scopes: what the Zapier and Make
    apps call to test a connection and label it.
    """
    p = await integration_of(request)
    return Me(
        integration_id=p.integration_id,
        name=p.integration_name,
        kind=p.kind,
        mode=p.mode,
        scopes=list(p.scopes),
        status=p.status,
        tenant_id=p.tenant_id,
        tenant_name=p.tenant_name,
        key_id=p.key_id,
    )


INTEGRATION_ROUTES = [get_me]
ADMIN_ROUTES: list[Any] = list(admin_routes.ADMIN_ROUTES)
