"""Signing in and out of the console, and what every console page passes first.

An admin token (platform or tenant) is typed once into the sign-in form; the hub checks
it as the admin API does (failures counted, lockouts applied) and opens a session: a
cookie that is HttpOnly, SameSite=Strict, Secure in production, expiring with the
session, removed on sign-out. The token itself is never stored in the browser.
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Response
from litestar.response import Redirect

from hub.admin.tokens import authenticate_admin
from hub.console.forms import form_of
from hub.console.sessions import (
    ADMIN_TTL,
    COOKIE,
    ConsoleSession,
    close_session,
    open_session,
    session_of,
)
from hub.runtime import Runtime
from hub.web.errors import ProblemError
from hub.web.requests import AnyRequest, runtime_of, source_of


class SignInRequired(Exception):
    """No live session: the page answers a redirect to where one is opened."""

    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


def cookie_header(rt: Runtime, name: str, value: str, path: str, ttl: timedelta) -> str:
    secure = "; Secure" if rt.settings.env == "production" else ""
    seconds = int(ttl.total_seconds())
    return f"{name}={value}; Path={path}; Max-Age={seconds}; HttpOnly; SameSite=Strict{secure}"


async def current(request: AnyRequest) -> ConsoleSession:
    """The signed-in console session, or a redirect to the sign-in page."""
    session = await session_of(runtime_of(request), request.cookies.get(COOKIE))
    if session is None or session.kind != "console":
        raise SignInRequired("/console/sign-in")
    return session


async def changing(request: AnyRequest) -> tuple[ConsoleSession, dict[str, str]]:
    """The session and form of a state-changing request, its CSRF token checked."""
    session = await current(request)
    fields = await form_of(request)
    if not session.csrf_ok(fields.get("csrf")):
        raise ProblemError(
            "FORBIDDEN", "this form did not come from this console session (CSRF check)"
        )
    return session, fields


async def sign_in(request: AnyRequest) -> Response[str] | Redirect:
    rt = runtime_of(request)
    fields = await form_of(request)
    admin = await authenticate_admin(rt, fields.get("token", "").strip(), source_of(request))
    session_id, _ = await open_session(
        rt, kind="console", actor=admin.actor, tenant_id=admin.tenant_id, ttl=ADMIN_TTL
    )
    redirect = Redirect("/console/overview", status_code=303)
    redirect.headers["Set-Cookie"] = cookie_header(rt, COOKIE, session_id, "/", ADMIN_TTL)
    return redirect


async def sign_out(request: AnyRequest) -> Redirect:
    rt = runtime_of(request)
    await changing(request)
    await close_session(rt, request.cookies.get(COOKIE))
    redirect = Redirect("/console/sign-in", status_code=303)
    redirect.headers["Set-Cookie"] = cookie_header(rt, COOKIE, "", "/", timedelta(0))
    return redirect
