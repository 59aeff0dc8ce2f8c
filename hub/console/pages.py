"""The console's pages. Thin: each reads its session and inputs, calls the service the
admin API calls (with the session's principal, so tenant scoping and audit are the
API's), and renders a template."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from hub.audit.schemas import AuditFilters
from hub.audit.service import list_entries
from hub.console import overview
from hub.console.auth import changing, current, sign_in, sign_out
from hub.console.forms import Fields, convert, present, query_of
from hub.console.render import page
from hub.console.sessions import ConsoleSession
from hub.delivery import queries
from hub.delivery.replay import replay
from hub.delivery.schemas import DeliveryFilter, ReplayRequest
from hub.events.catalog import EVENT_TYPES
from hub.hooks import admin as subscriptions
from hub.hooks.schemas import SecretRotate
from hub.sanitize import service as sanitizer
from hub.sanitize.schemas import PreviewRequest
from hub.tenancy import service as tenancy
from hub.tenancy.schemas import IntegrationCreate, RevokeRequest, RotateRequest, TenantCreate
from hub.web.decoding import parse_json
from hub.web.errors import ProblemError
from hub.web.requests import AnyRequest, runtime_of

PAGE = 50
DELIVERY_FILTERS = (
    "status",
    "tenant_id",
    "integration_id",
    "subscription_id",
    "event_type",
    "target_host",
)


def _render(session: ConsoleSession, template: str, **context: Any) -> Response[str]:
    return page(template, session=session, **context)


def _moment(value: str, name: str) -> datetime:
    """A ``datetime-local`` input (no zone: the console shows and reads UTC)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ProblemError("VALIDATION_FAILED", f"{name} is not a date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def delivery_filter(query: dict[str, str], *, dead_only: bool = False) -> DeliveryFilter:
    values: dict[str, Any] = present(query, *DELIVERY_FILTERS)
    for name in ("since", "until"):
        if query.get(name, "").strip():
            values[name] = _moment(query[name].strip(), name)
    if dead_only:
        values["status"] = "dead"
    return convert(values, DeliveryFilter)


def _query(request: AnyRequest) -> Fields:
    return query_of(request)


# -- signing in ------------------------------------------------------------------------


@get("/")
async def home() -> Redirect:
    return Redirect("/console/overview", status_code=303)


@get("/sign-in")
async def sign_in_page() -> Response[str]:
    return page("sign_in.html", session=None, error=None, code=None)


@post("/sign-in", status_code=303)
async def sign_in_submit(request: AnyRequest) -> Any:
    try:
        return await sign_in(request)
    except ProblemError as exc:
        if exc.code not in ("UNAUTHENTICATED", "TENANT_DISABLED", "RATE_LIMITED"):
            raise
        return page(
            "sign_in.html", status_code=exc.status, session=None, error=exc.detail, code=exc.code
        )


@post("/sign-out", status_code=303)
async def sign_out_submit(request: AnyRequest) -> Redirect:
    return await sign_out(request)


# -- overview --------------------------------------------------------------------------


@get("/overview")
async def overview_page(request: AnyRequest) -> Response[str]:
    session = await current(request)
    rt = runtime_of(request)
    rows = await overview.figures(rt, session.admin, await overview.open_breaker_ids(rt))
    return _render(session, "overview.html", rows=rows, bars=overview.bars)


# -- tenants, integrations, keys ---------------------------------------------------------


@get("/tenants")
async def tenants_page(request: AnyRequest) -> Response[str]:
    session = await current(request)
    tenants = await tenancy.list_tenants(runtime_of(request), session.admin)
    return _render(session, "tenants.html", tenants=tenants)


@post("/tenants", status_code=303)
async def create_tenant(request: AnyRequest) -> Redirect:
    session, form = await changing(request)
    session.admin.require_platform("create tenants")
    body = convert(present(form, "name"), TenantCreate)
    tenant = await tenancy.create_tenant(runtime_of(request), session.admin, body)
    return Redirect(f"/console/tenants/{tenant.id}", status_code=303)


@get("/tenants/{tenant_id:str}")
async def tenant_page(request: AnyRequest, tenant_id: FromPath[str]) -> Response[str]:
    session = await current(request)
    rt = runtime_of(request)
    tenant = await tenancy.get_tenant(rt, session.admin, tenant_id)
    integrations = await tenancy.list_integrations(rt, session.admin, tenant_id)
    return _render(session, "tenant.html", tenant=tenant, integrations=integrations, shown=None)


@post("/tenants/{tenant_id:str}/integrations", status_code=201)
async def create_integration(request: AnyRequest, tenant_id: FromPath[str]) -> Response[str]:
    session, form = await changing(request)
    values = present(form, "name", "kind", "mode")
    values["scopes"] = [s for s in form.get("scopes", "").replace(",", " ").split() if s]
    body = convert(values, IntegrationCreate)
    rt = runtime_of(request)
    created = await tenancy.create_integration(rt, session.admin, tenant_id, body)
    return _render(
        session,
        "secret_shown.html",
        title=f"Integration {created.name} created",
        what="API key",
        secret=created.api_key,
        back=f"/console/tenants/{tenant_id}",
        note="The key is shown once. Copy it into the Zapier or Make connection now.",
    )


@post("/integrations/{integration_id:str}/rotate", status_code=200)
async def rotate_key(request: AnyRequest, integration_id: FromPath[str]) -> Response[str]:
    session, form = await changing(request)
    body = convert(present(form, "grace_seconds"), RotateRequest)
    rt = runtime_of(request)
    integration = await tenancy.get_integration(rt, session.admin, integration_id)
    rotated = await tenancy.rotate_key(rt, session.admin, integration_id, body)
    expiry = overview_when(rotated.previous_key_expires_at)
    return _render(
        session,
        "secret_shown.html",
        title=f"New API key for {integration.name}",
        what="API key",
        secret=rotated.api_key,
        back=f"/console/tenants/{integration.tenant_id}",
        note=f"Shown once. The previous key keeps working until {expiry} (UTC).",
    )


def overview_when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "now"


@post("/integrations/{integration_id:str}/revoke", status_code=303)
async def revoke_keys(request: AnyRequest, integration_id: FromPath[str]) -> Redirect:
    session, form = await changing(request)
    rt = runtime_of(request)
    integration = await tenancy.get_integration(rt, session.admin, integration_id)
    body = convert(present(form, "key_id"), RevokeRequest)
    await tenancy.revoke_keys(rt, session.admin, integration_id, body)
    return Redirect(f"/console/tenants/{integration.tenant_id}", status_code=303)


# -- subscriptions ---------------------------------------------------------------------


@get("/subscriptions")
async def subscriptions_page(request: AnyRequest) -> Response[str]:
    session = await current(request)
    query = _query(request)
    filters = present(query, "tenant_id", "integration_id", "status", "event_type")
    rt = runtime_of(request)
    items = await subscriptions.list_subscriptions(
        rt,
        session.admin,
        tenant_id=filters.get("tenant_id"),
        integration_id=filters.get("integration_id"),
        status=filters.get("status"),
        event_type=filters.get("event_type"),
        before_id=query.get("cursor") or None,
        limit=PAGE,
    )
    breakers = set(await overview.open_breaker_ids(rt))
    cursor = items[-1].id if len(items) == PAGE else None
    return _render(
        session,
        "subscriptions.html",
        items=items,
        breakers=breakers,
        query=query,
        cursor=cursor,
    )


@post("/subscriptions/{subscription_id:str}/{verb:str}", status_code=200)
async def change_subscription(
    request: AnyRequest, subscription_id: FromPath[str], verb: FromPath[str]
) -> Any:
    session, form = await changing(request)
    rt = runtime_of(request)
    back = Redirect("/console/subscriptions", status_code=303)
    if verb in ("pause", "resume"):
        await subscriptions.set_paused(rt, session.admin, subscription_id, paused=verb == "pause")
        return back
    if verb == "delete":
        await subscriptions.delete_subscription(rt, session.admin, subscription_id)
        return back
    if verb == "rotate-secret":
        body = convert(present(form, "grace_seconds"), SecretRotate)
        rotated = await subscriptions.rotate_secret(rt, session.admin, subscription_id, body)
        return _render(
            session,
            "secret_shown.html",
            title="New signing secret",
            what="Signing secret",
            secret=rotated.secret,
            back="/console/subscriptions",
            note="Shown once. Receivers verify with either secret during the grace period.",
        )
    raise ProblemError("NOT_FOUND", "no such change")


# -- deliveries and the DLQ ------------------------------------------------------------


async def _deliveries(
    request: AnyRequest, session: ConsoleSession, flt: DeliveryFilter
) -> tuple[list[Any], str | None]:
    cursor = _query(request).get("cursor") or None
    items = await queries.list_deliveries(
        runtime_of(request), session.admin, flt, before_id=cursor, limit=PAGE
    )
    return items, items[-1].id if len(items) == PAGE else None


@get("/deliveries")
async def deliveries_page(request: AnyRequest) -> Response[str]:
    session = await current(request)
    query = _query(request)
    items, cursor = await _deliveries(request, session, delivery_filter(query))
    return _render(session, "deliveries.html", items=items, query=query, cursor=cursor)


@get("/deliveries/{delivery_id:str}")
async def delivery_page(request: AnyRequest, delivery_id: FromPath[str]) -> Response[str]:
    session = await current(request)
    detail = await queries.get_delivery(runtime_of(request), session.admin, delivery_id)
    return _render(session, "delivery.html", d=detail, body=None)


@get("/dlq")
async def dlq_page(request: AnyRequest) -> Response[str]:
    session = await current(request)
    query = _query(request)
    items, cursor = await _deliveries(request, session, delivery_filter(query, dead_only=True))
    return _render(
        session,
        "dlq.html",
        items=items,
        query=query,
        cursor=cursor,
        confirm=None,
        result=None,
        progress=None,
    )


@post("/dlq/replay", status_code=200)
async def dlq_replay(request: AnyRequest) -> Response[str]:
    """Two steps: the filter's count to confirm, then the replay (audited by the service;
    the lanes' rate limits pace what it queues)."""
    session, form = await changing(request)
    rt = runtime_of(request)
    flt = delivery_filter(form, dead_only=True)
    if form.get("confirmed") != "yes":
        count = await queries.count_deliveries(rt, session.admin, flt)
        return _render(
            session,
            "dlq.html",
            items=[],
            query=form,
            cursor=None,
            confirm=count,
            result=None,
            progress=None,
        )
    result = await replay(rt, session.admin, ReplayRequest(filter=flt))
    items, cursor = await _deliveries(request, session, delivery_filter(Fields(), dead_only=True))
    # Where to watch them move (pending -> delivered, or dead again): the same search.
    progress = urlencode(present(form, *DELIVERY_FILTERS[1:], "since", "until"))
    return _render(
        session,
        "dlq.html",
        items=items,
        query=Fields(),
        cursor=cursor,
        confirm=None,
        result=result,
        progress=f"/console/deliveries?{progress}",
    )


# -- audit -----------------------------------------------------------------------------


@get("/audit")
async def audit_page(request: AnyRequest) -> Response[str]:
    session = await current(request)
    query = _query(request)
    values: dict[str, Any] = present(
        query,
        "tenant_id",
        "integration_id",
        "correlation_id",
        "action",
        "actor",
        "target_id",
        "cursor",
    )
    values["limit"] = PAGE
    entries, cursor = await list_entries(
        runtime_of(request), session.admin, convert(values, AuditFilters)
    )
    return _render(session, "audit.html", entries=entries, query=query, cursor=cursor)


# -- the event catalog and its policies -------------------------------------------------


@get("/catalog")
async def catalog_page(request: AnyRequest) -> Response[str]:
    session = await current(request)
    return _render(session, "catalog.html", types=list(EVENT_TYPES.values()))


async def _catalog_entry(
    request: AnyRequest, session: ConsoleSession, event_type: str, **extra: Any
) -> Response[str]:
    entry = EVENT_TYPES.get(event_type)
    if entry is None:
        raise ProblemError("NOT_FOUND", "no such event type")
    rt = runtime_of(request)
    policy = await sanitizer.effective_policy(rt, session.admin, event_type, None)
    integrations = []
    for tenant in await tenancy.list_tenants(rt, session.admin):
        integrations += await tenancy.list_integrations(rt, session.admin, tenant.id)
    context: dict[str, Any] = {"sample": json.dumps(entry.sample, indent=2), "preview": None}
    context.update(extra)
    return _render(
        session,
        "catalog_entry.html",
        entry=entry,
        policy=policy,
        integrations=integrations,
        **context,
    )


@get("/catalog/{event_type:str}")
async def catalog_entry_page(request: AnyRequest, event_type: FromPath[str]) -> Response[str]:
    session = await current(request)
    return await _catalog_entry(request, session, event_type)


@post("/catalog/{event_type:str}/preview", status_code=200)
async def catalog_preview(request: AnyRequest, event_type: FromPath[str]) -> Response[str]:
    session, form = await changing(request)
    data = parse_json(form.get("data", "").encode())  # the API's rules: depth, size, NUL
    body = convert({"integration_id": form.get("integration_id", ""), "data": data}, PreviewRequest)
    result = await sanitizer.preview(runtime_of(request), session.admin, event_type, body)
    return await _catalog_entry(
        request,
        session,
        event_type,
        sample=form.get("data", ""),
        preview=json.dumps(msgspec.to_builtins(result.data), indent=2, ensure_ascii=False),
    )


ROUTES: list[Any] = [
    home,
    sign_in_page,
    sign_in_submit,
    sign_out_submit,
    overview_page,
    tenants_page,
    create_tenant,
    tenant_page,
    create_integration,
    rotate_key,
    revoke_keys,
    subscriptions_page,
    change_subscription,
    deliveries_page,
    delivery_page,
    dlq_page,
    dlq_replay,
    audit_page,
    catalog_page,
    catalog_entry_page,
    catalog_preview,
]
