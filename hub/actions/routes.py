"""HTTP routes of the actions capability: actions, the catalog, executions (and admin views).

One route per catalog action (so the OpenAPI document shows each input schema),
plus a catch-all that answers 404 for names the catalog does not hold.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from msgspec import Meta

from hub.actions import executions
from hub.actions.catalog import ACTIONS, CatalogView, action_named, catalog_for
from hub.actions.choices import CHOICES, ChoiceList, choice_list
from hub.actions.executions import ExecutionView, find_execution
from hub.actions.idempotency import HEADER, MAX_KEY_LENGTH, parse_idempotency_key
from hub.actions.service import run_action
from hub.actions.spec import ActionSpec
from hub.actions.state import ActionsState
from hub.admin.requests import admin_of
from hub.admin.schemas import Page
from hub.tenancy.requests import integration_of
from hub.web.context import current_request_id
from hub.web.decoding import check_json_content_type, parse_json
from hub.web.errors import ProblemError
from hub.web.openapi import Documented
from hub.web.query import PageLimit
from hub.web.requests import AnyRequest, runtime_of

TAGS = ["actions"]


async def _run(request: AnyRequest, actions: ActionsState, name: str) -> Response[bytes]:
    principal = await integration_of(request)
    spec = action_named(name)
    if spec is None:
        raise ProblemError("NOT_FOUND", "no such action; GET /v1/catalog lists them")
    principal.require_scope(spec.scope)
    key = parse_idempotency_key(request.headers.getall(HEADER, []))
    check_json_content_type(request.headers.get("content-type"))
    body = parse_json(await request.body())
    result = await run_action(
        runtime_of(request), actions, principal, spec, key, body, current_request_id()
    )
    return Response(
        content=result.body,
        status_code=result.status,
        media_type=result.media_type,
        headers={"cache-control": "no-store", **result.headers},
    )


# Exactly what ``parse_idempotency_key`` accepts (a property test holds them together):
# bare, 1-255 printable ASCII characters without a space or quote at either end; or an
# RFC 8941 string of 1-255 characters, only ``\\"`` and ``\\\\`` escaped.
_END = r"[!#-~]"
IDEMPOTENCY_KEY_PATTERN = (
    rf"^(?:{_END}(?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}{_END})?"
    rf'|"(?:[ !#-\[\]-~]|\\["\\]){{1,{MAX_KEY_LENGTH}}}")$'
)
IDEMPOTENCY_KEY_DOC = (
    "A key per logical request (a UUID, or the triggering event's id): 1-255 printable "
    'ASCII characters, bare or as a quoted string ("..."). Same key and body: the stored '
    "answer; same key, other body: 422 `IDEMPOTENCY_KEY_REUSED`. `auto`: the hub derives "
    "the key from the action and the body's canonical JSON (same inputs, same key)."
)

# What the document says of every action (hub.web.openapi reads these ``opt`` keys).
ACTION_ERRORS = (
    "FORBIDDEN_SCOPE",
    "IDEMPOTENCY_KEY_MISSING",
    "IDEMPOTENCY_KEY_INVALID",
    "IDEMPOTENCY_IN_PROGRESS",
    "IDEMPOTENCY_KEY_REUSED",
    "TARGET_NOT_ALLOWED",
    "NO_HANDLER",
    "RECIPIENT_SUPPRESSED",
    "RATE_LIMITED",
    "QUOTA_EXCEEDED",
    "UPSTREAM_ERROR",
    "UPSTREAM_TIMEOUT",
)
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": IDEMPOTENCY_KEY_DOC,
    "schema": {
        "type": "string",
        "pattern": IDEMPOTENCY_KEY_PATTERN,
        "examples": ["7d0e9c1e-4f5b-4a8e-9a51-2f3c1a9b8e10"],
    },
}


def _documented_input(spec: ActionSpec) -> Any:
    """The input Struct, with the cross-field rules its checks enforce (``schema_rules``)."""
    rules = getattr(spec.input_type, "schema_rules", None)
    if not rules:
        return spec.input_type
    return Documented(Annotated[spec.input_type, Meta(extra_json_schema=rules)])


def _action_route(spec: ActionSpec) -> Any:
    async def run(request: AnyRequest, actions: NamedDependency[ActionsState]) -> Response[bytes]:
        return await _run(request, actions, spec.name)

    # The handler's name is the operationId: the action's own (create_lead, ...).
    run.__name__ = run.__qualname__ = spec.name
    return post(
        f"/actions/{spec.name}",
        status_code=200,
        tags=TAGS,
        summary=spec.title,
        description=spec.description
        + " Requires the `Idempotency-Key` header and the scope `"
        + spec.scope
        + "`. A retry with the same key and body answers the stored result "
        "(`Idempotent-Replayed: true`) without doing the work again.",
        opt={
            "body": _documented_input(spec),
            "schemas": getattr(spec.input_type, "schema_types", ()),
            "response": spec.result_type,
            "header_params": (IDEMPOTENCY_KEY_PARAMETER,),
            "response_headers": ("RateLimit", "RateLimit-Policy", "Idempotent-Replayed"),
            "errors": ACTION_ERRORS,
        },
    )(run)


@post("/actions/{action:str}", status_code=200, tags=TAGS, include_in_schema=False)
async def unknown_action(
    request: AnyRequest, actions: NamedDependency[ActionsState], action: FromPath[str]
) -> Response[bytes]:
    return await _run(request, actions, action)


@get("/catalog", tags=TAGS)
async def get_catalog(request: AnyRequest) -> CatalogView:
    """Actions and event types this integration may use.

    With each action's input and output schema and each event type's sample,
    narrowed to the integration's scopes.
    """
    principal = await integration_of(request)
    return catalog_for(principal.scopes)


@get("/choices/{name:str}", tags=TAGS)
async def list_choices(request: AnyRequest, name: FromPath[str]) -> ChoiceList:
    """List the choices of an enumerated input.

    `lead_status`, `appointment_kind` or `appointment_channel`: the values the actions
    accept, with labels, for the apps' dropdowns. Any key may read them.
    """
    await integration_of(request)
    found = choice_list(name)
    if found is None:
        raise ProblemError("NOT_FOUND", f"no such choice list; one of {sorted(CHOICES)}")
    return found


@get("/executions/{execution_id:str}", tags=TAGS)
async def get_execution(request: AnyRequest, execution_id: FromPath[str]) -> ExecutionView:
    """Get an execution of this integration.

    How an action call ran: status, HTTP status, attempts, replays and (within the
    idempotency window) its outputs. Another integration's execution is 404.
    """
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
async def list_executions(
    request: AnyRequest,
    tenant_id: FromQuery[str | None] = None,
    integration_id: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    limit: PageLimit = 100,
) -> Page[ExecutionView]:
    """List action executions.

    Newest first, filtered by tenant, integration, action and status; a tenant admin
    token sees only its tenant's; paged by `next_cursor`.
    """
    admin = await admin_of(request)
    if admin.tenant_id is not None:
        if tenant_id is not None:
            admin.require_tenant(tenant_id)
        tenant_id = admin.tenant_id
    items = await executions.list_executions(
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
async def get_any_execution(request: AnyRequest, execution_id: FromPath[str]) -> ExecutionView:
    """Get any execution.

    A tenant admin token sees only its tenant's (another tenant's is 404).
    """
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
    get_catalog,
    list_choices,
    get_execution,
]
ADMIN_ROUTES: list[Any] = [list_executions, get_any_execution]
