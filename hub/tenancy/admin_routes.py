"""Admin API controllers of tenancy: tenants, integrations and their API keys. Thin by design."""

from __future__ import annotations

from litestar import get, patch, post
from litestar.params import FromPath, FromQuery

from hub.admin.requests import admin_of
from hub.admin.schemas import Page
from hub.tenancy import service
from hub.tenancy.schemas import (
    IntegrationCreate,
    IntegrationCreated,
    IntegrationPatch,
    IntegrationView,
    RevokeRequest,
    RevokeResult,
    RotateRequest,
    RotateResult,
    TenantCreate,
    TenantPatch,
    TenantView,
)
from hub.web.query import PageLimit
from hub.web.requests import AnyRequest, body_of, optional_body_of, runtime_of

TAGS = ["admin"]


@post("/tenants", status_code=201, tags=TAGS, opt={"body": TenantCreate})
async def create_tenant(request: AnyRequest) -> TenantView:
    """Create a tenant.

    Platform admins only. The tenant starts active, with the default limits unless
    given.
    """
    admin = await admin_of(request)
    body = await body_of(request, TenantCreate)
    return await service.create_tenant(runtime_of(request), admin, body)


@get("/tenants", tags=TAGS)
async def list_tenants(
    request: AnyRequest,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[TenantView]:
    """List tenants.

    Platform admins see every tenant, a tenant admin token only its own; paged by
    `next_cursor`.
    """
    admin = await admin_of(request)
    items = await service.list_tenants(runtime_of(request), admin, after=cursor, limit=limit)
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@get("/tenants/{tenant_id:str}", tags=TAGS)
async def get_tenant(request: AnyRequest, tenant_id: FromPath[str]) -> TenantView:
    """Get a tenant.

    Another tenant's id is 404 for a tenant admin token.
    """
    admin = await admin_of(request)
    return await service.get_tenant(runtime_of(request), admin, tenant_id)


@patch(
    "/tenants/{tenant_id:str}",
    tags=TAGS,
    opt={"body": TenantPatch, "errors": ("TARGET_NOT_ALLOWED",)},
)
async def update_tenant(request: AnyRequest, tenant_id: FromPath[str]) -> TenantView:
    """Update a tenant.

    Name, status (active/disabled), limits and the product's upstream URL and
    credentials; fields left out keep their value. The upstream URL passes the SSRF
    guard (422 `TARGET_NOT_ALLOWED`).
    """
    admin = await admin_of(request)
    body = await body_of(request, TenantPatch)
    return await service.patch_tenant(runtime_of(request), admin, tenant_id, body)


@post(
    "/tenants/{tenant_id:str}/integrations",
    status_code=201,
    tags=TAGS,
    opt={"body": IntegrationCreate},
)
async def create_integration(request: AnyRequest, tenant_id: FromPath[str]) -> IntegrationCreated:
    """Create an integration of a tenant.

    An integration is one caller (a Zapier or Make connection, a partner, a source)
    with its scopes and mode; the answer shows its first API key once.
    """
    admin = await admin_of(request)
    body = await body_of(request, IntegrationCreate)
    return await service.create_integration(runtime_of(request), admin, tenant_id, body)


@get("/tenants/{tenant_id:str}/integrations", tags=TAGS)
async def list_integrations(request: AnyRequest, tenant_id: FromPath[str]) -> Page[IntegrationView]:
    """List a tenant's integrations.

    Keys are never shown, only their ids and state.
    """
    admin = await admin_of(request)
    return Page(items=await service.list_integrations(runtime_of(request), admin, tenant_id))


@get("/integrations/{integration_id:str}", tags=TAGS)
async def get_integration(request: AnyRequest, integration_id: FromPath[str]) -> IntegrationView:
    """Get an integration.

    Its scopes, mode, status, limits and keys (ids, state, expiry; never secrets).
    """
    admin = await admin_of(request)
    return await service.get_integration(runtime_of(request), admin, integration_id)


@patch("/integrations/{integration_id:str}", tags=TAGS, opt={"body": IntegrationPatch})
async def update_integration(request: AnyRequest, integration_id: FromPath[str]) -> IntegrationView:
    """Update an integration.

    Name, status, scopes, limits and policy overrides; fields left out keep their
    value.
    """
    admin = await admin_of(request)
    body = await body_of(request, IntegrationPatch)
    return await service.patch_integration(runtime_of(request), admin, integration_id, body)


@post(
    "/integrations/{integration_id:str}/keys/rotate",
    status_code=201,
    tags=TAGS,
    opt={"body": RotateRequest, "body_optional": True},
)
async def rotate_integration_key(
    request: AnyRequest, integration_id: FromPath[str]
) -> RotateResult:
    """Rotate an integration's API key.

    A new key is created and shown once; the previous keys keep working for
    `grace_seconds` (default one day), then expire.
    """
    admin = await admin_of(request)
    body = await optional_body_of(request, RotateRequest)
    return await service.rotate_key(runtime_of(request), admin, integration_id, body)


@post(
    "/integrations/{integration_id:str}/keys/revoke",
    status_code=200,
    tags=TAGS,
    opt={"body": RevokeRequest, "body_optional": True},
)
async def revoke_integration_keys(
    request: AnyRequest, integration_id: FromPath[str]
) -> RevokeResult:
    """Revoke API keys of an integration.

    One key by `key_id`, or every key of the integration; a revoked key answers 401
    `KEY_REVOKED` at once.
    """
    admin = await admin_of(request)
    body = await optional_body_of(request, RevokeRequest)
    return await service.revoke_keys(runtime_of(request), admin, integration_id, body)


ADMIN_ROUTES = [
    create_tenant,
    list_tenants,
    get_tenant,
    update_tenant,
    create_integration,
    list_integrations,
    get_integration,
    update_integration,
    rotate_integration_key,
    revoke_integration_keys,
]
