"""Admin API controllers: admin tokens and the audit log. Thin by design.

Tenants, integrations and their keys are tenancy's (``hub/tenancy/admin_routes.py``).
"""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath, FromQuery

from hub.admin.requests import admin_of
from hub.admin.schemas import Page, TokenCreate, TokenCreated, TokenView
from hub.admin.tokens import create_token, list_tokens, revoke_token
from hub.audit.schemas import AuditFilters, AuditView
from hub.audit.service import list_entries
from hub.web.query import PageLimit, QueryTime, time_range
from hub.web.requests import AnyRequest, body_of, runtime_of

TAGS = ["admin"]


@post("/tokens", status_code=201, tags=TAGS, opt={"body": TokenCreate, "errors": ("NOT_FOUND",)})
async def create_admin_token(request: AnyRequest) -> TokenCreated:
    """Create an admin token.

    Platform admins only; a token with `tenant_id` is a tenant admin token that sees
    and changes only that tenant. Shown once.
    """
    admin = await admin_of(request)
    body = await body_of(request, TokenCreate)
    token, token_id = await create_token(
        runtime_of(request), admin, name=body.name, tenant_id=body.tenant_id
    )
    return TokenCreated(id=token_id, token=token, tenant_id=body.tenant_id)


@get("/tokens", tags=TAGS)
async def list_admin_tokens(request: AnyRequest) -> Page[TokenView]:
    """List admin tokens.

    Ids, names, scope and state; never the tokens.
    """
    admin = await admin_of(request)
    return Page(items=await list_tokens(runtime_of(request), admin))


@post("/tokens/{token_id:str}/revoke", status_code=200, tags=TAGS)
async def revoke_admin_token(request: AnyRequest, token_id: FromPath[str]) -> TokenView:
    """Revoke an admin token.

    Effective at once; repeatable.
    """
    admin = await admin_of(request)
    return await revoke_token(runtime_of(request), admin, token_id)


@get("/audit", tags=TAGS)
async def list_audit_entries(
    request: AnyRequest,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    correlation_id: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    actor: FromQuery[str | None] = None,
    target_id: FromQuery[str | None] = None,
    since: QueryTime = None,
    until: QueryTime = None,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[AuditView]:
    """List audit entries.

    Every change made through the admin API and every authentication failure, newest
    first, filtered by tenant, integration, correlation id, action, actor, target
    (the object acted on) and time; paged by `next_cursor`.
    """
    admin = await admin_of(request)
    since_at, until_at = time_range(since, until)
    filters = AuditFilters(
        tenant_id=tenant_id,
        integration_id=integration_id,
        correlation_id=correlation_id,
        action=action,
        actor=actor,
        target_id=target_id,
        since=since_at,
        until=until_at,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = await list_entries(runtime_of(request), admin, filters)
    return Page(items=items, next_cursor=next_cursor)


ADMIN_ROUTES = [
    create_admin_token,
    list_admin_tokens,
    revoke_admin_token,
    list_audit_entries,
]
INTEGRATION_ROUTES: list[object] = []
