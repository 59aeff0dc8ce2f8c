"""HTTP routes of the actions capability: actions, the catalog, executions (and admin views).

One route per catalog action (so the OpenAPI document shows each input schema),
plus a catch-all that answers 404 for names the catalog does not hold.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery

from hub.actions.catalog import ACTIONS, CatalogView, action_named, catalog_for
from hub.actions.executions import ExecutionView, find_execution, list_executions
from hub.actions.idempotency import HEADER, parse_idempotency_key
from hub.actions.service import run_action
from hub.actions.spec import ActionSpec
from hub.admin.schemas import Page
from hub.web.context import current_request_id
from hub.web.decoding import check_json_content_type, parse_json
from hub.web.errors import ProblemError
from hub.web.requests import AnyRequest, admin_of, integration_of, runtime_of

TAGS = ["actions"]


async def _run(request: AnyRequest, name: str) -> Response[bytes]:
    principal = await integration_of(request)
    spec = action_named(name)
    if spec is None:
        raise ProblemError("NOT_FOUND", "no such action; GET /v1/catalog lists them")
    principal.require_scope(spec.scope)
    key = parse_idempotency_key(request.headers.get(HEADER))
    check_json_content_type(request.headers.get("content-type"))
    body = parse_json(await request.body())
    result = await run_action(runtime_of(request), principal, spec, key, body, current_request_id())
    return Response(
        content=result.body,
        status_code=result.status,
        media_type=result.media_type,
        headers={"cache-control": "no-store", **result.headers},
    )


def _action_route(spec: ActionSpec) -> Any:
    async def run(request: AnyRequest) -> Response[bytes]:
        return await _run(request, spec.name)

    run.__name__ = run.__qualname__ = f"action_{spec.name}"
    return post(
        f"/actions/{spec.name}",
        status_code=200,
        tags=TAGS,
        summary=spec.title,
        description=spec.description
        + " Requires the `Idempotency-Key` header and the scope `"
        + spec.scope
        + "`.",
        operation_id=f"action_{spec.name}",
        opt={"body": spec.input_type},
    )(run)


@post("/actions/{action:str}", status_code=200, tags=TAGS, include_in_schema=False)
async def unknown_action(request: AnyRequest, action: FromPath[str]) -> Response[bytes]:
    return await _run(request, action)


@get("/catalog", tags=TAGS, summary="Actions and event types this integration may use")
async def catalog(request: AnyRequest) -> CatalogView:
    principal = await integration_of(request)
    return catalog_for(principal.scopes)


@get("/executions/{execution_id:str}", tags=TAGS, summary="An execution of this integration")
async def get_execution(request: AnyRequest, execution_id: FromPath[str]) -> ExecutionView:
    principal = await integration_of(request)
    rt = runtime_of(request)
    view = await find_execution(
        rt.db,
        execution_id,
        lock_seconds=rt.settings.idempotency_lock_seconds,
        integration_id=principal.integration_id,
    )
    if view is None:
        raise ProblemError("NOT_FOUND", "no such execution")
    return view


@get("/executions", tags=["admin"])
async def admin_list_executions(
    request: AnyRequest,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: FromQuery[int] = 100,
) -> Page[ExecutionView]:
    admin = await admin_of(request)
    if admin.tenant_id is not None:
        if tenant_id is not None:
            admin.require_tenant(tenant_id)
        tenant_id = admin.tenant_id
    limit = max(1, min(limit, 500))
    items = await list_executions(
        runtime_of(request).db,
        tenant_id=tenant_id,
        integration_id=integration_id,
        action=action,
        status=status,
        before_id=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@get("/executions/{execution_id:str}", tags=["admin"])
async def admin_get_execution(request: AnyRequest, execution_id: FromPath[str]) -> ExecutionView:
    admin = await admin_of(request)
    rt = runtime_of(request)
    view = await find_execution(
        rt.db,
        execution_id,
        lock_seconds=rt.settings.idempotency_lock_seconds,
        tenant_id=admin.tenant_id,
    )
    if view is None:
        raise ProblemError("NOT_FOUND", "no such execution")
    return view


INTEGRATION_ROUTES: list[Any] = [
    *[_action_route(spec) for spec in ACTIONS.values()],
    unknown_action,
    catalog,
    get_execution,
]
ADMIN_ROUTES: list[Any] = [admin_list_executions, admin_get_execution]
