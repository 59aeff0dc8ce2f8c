"""Admin API controllers: tenants, integrations, keys, tokens, audit. Thin by design."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import get, patch, post
from litestar.params import FromPath, FromQuery, QueryParameter

from hub.admin.schemas import Page, TokenCreate, TokenCreated, TokenView
from hub.admin.tokens import create_token, list_tokens, revoke_token
from hub.audit.schemas import AuditFilters, AuditView
from hub.audit.service import MAX_PAGE, list_entries
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
from hub.web.requests import AnyRequest, admin_of, body_of, optional_body_of, runtime_of

TAGS = ["admin"]
PageLimit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="items per page")]


@post("/tenants", status_code=201, tags=TAGS, opt={"body": TenantCreate})
async def create_tenant(request: AnyRequest) -> TenantView:
    admin = await admin_of(request)
    body = await body_of(request, TenantCreate)
    return await service.create_tenant(runtime_of(request), admin, body)


@get("/tenants", tags=TAGS)
async def list_tenants(
    request: AnyRequest,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[TenantView]:
    admin = await admin_of(request)
    items = await service.list_tenants(runtime_of(request), admin, after=cursor, limit=limit)
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@get("/tenants/{tenant_id:str}", tags=TAGS)
async def get_tenant(request: AnyRequest, tenant_id: FromPath[str]) -> TenantView:
    admin = await admin_of(request)
    return await service.get_tenant(runtime_of(request), admin, tenant_id)


@patch("/tenants/{tenant_id:str}", tags=TAGS, opt={"body": TenantPatch})
async def patch_tenant(request: AnyRequest, tenant_id: FromPath[str]) -> TenantView:
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
    admin = await admin_of(request)
    body = await body_of(request, IntegrationCreate)
    return await service.create_integration(runtime_of(request), admin, tenant_id, body)


@get("/tenants/{tenant_id:str}/integrations", tags=TAGS)
async def list_integrations(request: AnyRequest, tenant_id: FromPath[str]) -> Page[IntegrationView]:
    admin = await admin_of(request)
    return Page(items=await service.list_integrations(runtime_of(request), admin, tenant_id))


@get("/integrations/{integration_id:str}", tags=TAGS)
async def get_integration(request: AnyRequest, integration_id: FromPath[str]) -> IntegrationView:
    admin = await admin_of(request)
    return await service.get_integration(runtime_of(request), admin, integration_id)


@patch("/integrations/{integration_id:str}", tags=TAGS, opt={"body": IntegrationPatch})
async def patch_integration(request: AnyRequest, integration_id: FromPath[str]) -> IntegrationView:
    admin = await admin_of(request)
    body = await body_of(request, IntegrationPatch)
    return await service.patch_integration(runtime_of(request), admin, integration_id, body)


@post(
    "/integrations/{integration_id:str}/keys/rotate",
    status_code=201,
    tags=TAGS,
    opt={"body": RotateRequest},
)
async def rotate_key(request: AnyRequest, integration_id: FromPath[str]) -> RotateResult:
    admin = await admin_of(request)
    body = await optional_body_of(request, RotateRequest)
    return await service.rotate_key(runtime_of(request), admin, integration_id, body)


@post(
    "/integrations/{integration_id:str}/keys/revoke",
    status_code=200,
    tags=TAGS,
    opt={"body": RevokeRequest},
)
async def revoke_keys(request: AnyRequest, integration_id: FromPath[str]) -> RevokeResult:
    admin = await admin_of(request)
    body = await optional_body_of(request, RevokeRequest)
    return await service.revoke_keys(runtime_of(request), admin, integration_id, body)


@post("/tokens", status_code=201, tags=TAGS, opt={"body": TokenCreate})
async def create_admin_token(request: AnyRequest) -> TokenCreated:
    admin = await admin_of(request)
    body = await body_of(request, TokenCreate)
    token, token_id = await create_token(
        runtime_of(request), admin, name=body.name, tenant_id=body.tenant_id
    )
    return TokenCreated(id=token_id, token=token, tenant_id=body.tenant_id)


@get("/tokens", tags=TAGS)
async def list_admin_tokens(request: AnyRequest) -> Page[TokenView]:
    admin = await admin_of(request)
    return Page(items=await list_tokens(runtime_of(request), admin))


@post("/tokens/{token_id:str}/revoke", status_code=200, tags=TAGS)
async def revoke_admin_token(request: AnyRequest, token_id: FromPath[str]) -> TokenView:
    admin = await admin_of(request)
    return await revoke_token(runtime_of(request), admin, token_id)


@get("/audit", tags=TAGS)
async def list_audit(
    request: AnyRequest,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    correlation_id: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[AuditView]:
    admin = await admin_of(request)
    filters = AuditFilters(
        tenant_id=tenant_id,
        integration_id=integration_id,
        correlation_id=correlation_id,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = await list_entries(runtime_of(request), admin, filters)
    return Page(items=items, next_cursor=next_cursor)


ADMIN_ROUTES = [
    create_tenant,
    list_tenants,
    get_tenant,
    patch_tenant,
    create_integration,
    list_integrations,
    get_integration,
    patch_integration,
    rotate_key,
    revoke_keys,
    create_admin_token,
    list_admin_tokens,
    revoke_admin_token,
    list_audit,
]
INTEGRATION_ROUTES: list[object] = []
