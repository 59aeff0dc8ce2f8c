"""The integration portal: what the person behind one zap or scenario sees through a
portal link — that integration's subscriptions, its deliveries with the bodies its
receivers got (sanitized, never the raw event), replay of its own dead deliveries and
rotation of its subscriptions' secrets. Nothing outside that integration is reachable:
every object is checked to belong to it (404 otherwise, as the API answers)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from hub.admin.portal_links import live_link, redeem
from hub.console.auth import SignInRequired, cookie_header
from hub.console.forms import convert, form_of, present, query_of
from hub.console.render import page
from hub.console.sessions import ConsoleSession, close_session, open_session, session_of
from hub.delivery import queries
from hub.delivery.replay import replay
from hub.delivery.schemas import DeliveryFilter, ReplayRequest
from hub.hooks import admin as subscriptions
from hub.hooks.schemas import SecretRotate
from hub.tenancy import service as tenancy
from hub.web.errors import ProblemError
from hub.web.requests import AnyRequest, runtime_of

COOKIE = "hub_portal"
PAGE = 50


async def _current(request: AnyRequest) -> ConsoleSession:
    rt = runtime_of(request)
    session = await session_of(rt, request.cookies.get(COOKIE))
    if session is None or session.kind != "portal" or session.link_id is None:
        raise SignInRequired("/portal/expired")
    if await live_link(rt, session.link_id) is None:  # revoked (or expired) since
        raise SignInRequired("/portal/expired")
    return session


async def _changing(request: AnyRequest) -> tuple[ConsoleSession, dict[str, str]]:
    session = await _current(request)
    fields = await form_of(request)
    if not session.csrf_ok(fields.get("csrf")):
        raise ProblemError("FORBIDDEN", "this form did not come from this portal session (CSRF)")
    return session, fields


def _mine(session: ConsoleSession, integration_id: str) -> None:
    if integration_id != session.integration_id:
        raise ProblemError("NOT_FOUND", "no such object")


@get("/enter")
async def enter(request: AnyRequest) -> Response[Any]:
    rt = runtime_of(request)
    token = request.query_params.get("token") or ""
    redeemed = await redeem(rt, token) if isinstance(token, str) else None
    if redeemed is None:
        return page("portal_expired.html", status_code=404, session=None)
    link_id, link = redeemed
    ttl = link.expires_at - rt.clock.now()
    session_id, _ = await open_session(
        rt,
        kind="portal",
        actor=f"portal:{link_id}",
        tenant_id=link.tenant_id,
        ttl=ttl,
        integration_id=link.integration_id,
        link_id=link_id,
    )
    # The token leaves the address bar at once (and Referrer-Policy keeps it from others).
    redirect = Redirect("/portal/", status_code=303)
    redirect.headers["Set-Cookie"] = cookie_header(rt, COOKIE, session_id, "/portal", ttl)
    return redirect


@get("/expired")
async def expired() -> Response[str]:
    return page("portal_expired.html", status_code=401, session=None)


@get("/")
async def home(request: AnyRequest) -> Response[str]:
    session = await _current(request)
    rt = runtime_of(request)
    integration_id = session.integration_id or ""
    integration = await tenancy.get_integration(rt, session.admin, integration_id)
    subs = await subscriptions.list_subscriptions(
        rt,
        session.admin,
        tenant_id=None,
        integration_id=integration_id,
        status=None,
        event_type=None,
        before_id=None,
        limit=100,
    )
    query = query_of(request)
    status = query.get("status") or None
    flt = convert(
        {"integration_id": integration_id, **({"status": status} if status else {})},
        DeliveryFilter,
    )
    cursor = query.get("cursor") or None
    items = await queries.list_deliveries(rt, session.admin, flt, before_id=cursor, limit=PAGE)
    dead = await queries.count_deliveries(
        rt, session.admin, DeliveryFilter(integration_id=integration_id, status="dead")
    )
    return page(
        "portal.html",
        session=session,
        integration=integration,
        subscriptions=subs,
        items=items,
        dead=dead,
        query=query,
        cursor=items[-1].id if len(items) == PAGE else None,
        result=None,
    )


@get("/deliveries/{delivery_id:str}")
async def delivery(request: AnyRequest, delivery_id: FromPath[str]) -> Response[str]:
    session = await _current(request)
    rt = runtime_of(request)
    detail = await queries.get_delivery(rt, session.admin, delivery_id)
    _mine(session, detail.integration_id)
    raw = await queries.sent_body(rt, session.admin, delivery_id)
    body = None
    if raw is not None:
        body = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    return page("delivery.html", session=session, d=detail, body=body, portal=True)


@post("/replay", status_code=200)
async def replay_dead(request: AnyRequest) -> Response[Any]:
    session, _ = await _changing(request)
    rt = runtime_of(request)
    flt = DeliveryFilter(integration_id=session.integration_id, status="dead")
    result = await replay(rt, session.admin, ReplayRequest(filter=flt))
    return page("portal_done.html", session=session, result=result, secret=None)


@post("/subscriptions/{subscription_id:str}/rotate-secret", status_code=200)
async def rotate_secret(request: AnyRequest, subscription_id: FromPath[str]) -> Response[str]:
    session, form = await _changing(request)
    rt = runtime_of(request)
    sub = await subscriptions.get_subscription(rt, session.admin, subscription_id)
    _mine(session, sub.integration_id)
    body = convert(present(form, "grace_seconds"), SecretRotate)
    rotated = await subscriptions.rotate_secret(rt, session.admin, subscription_id, body)
    return page("portal_done.html", session=session, result=None, secret=rotated.secret)


@post("/sign-out", status_code=303)
async def sign_out(request: AnyRequest) -> Redirect:
    await _changing(request)
    rt = runtime_of(request)
    await close_session(rt, request.cookies.get(COOKIE))
    redirect = Redirect("/portal/expired", status_code=303)
    redirect.headers["Set-Cookie"] = cookie_header(rt, COOKIE, "", "/portal", timedelta(0))
    return redirect


ROUTES: list[Any] = [enter, expired, home, delivery, replay_dead, rotate_secret, sign_out]
