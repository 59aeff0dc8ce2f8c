"""The console's and the portal's routers: their pages, their assets, and the two
answers every page may give instead of itself — a redirect to sign in, or the problem
(the API's code and detail) as a page a person reads."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.response import Redirect

from hub.console import pages, portal
from hub.console.auth import SignInRequired
from hub.console.render import asset, page
from hub.web.errors import ProblemError


def _sign_in(_request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    return Redirect(exc.to, status_code=303)


def _problem(_request: Request[Any, Any, Any], exc: ProblemError) -> Response[Any]:
    return page(
        "problem.html", status_code=exc.status, session=None, code=exc.code, detail=exc.detail
    )


HANDLERS: dict[Any, Any] = {SignInRequired: _sign_in, ProblemError: _problem}


def routers() -> list[Any]:
    return [
        asset,
        Router(
            "/console",
            route_handlers=pages.ROUTES,
            exception_handlers=HANDLERS,
            include_in_schema=False,
        ),
        Router(
            "/portal",
            route_handlers=portal.ROUTES,
            exception_handlers=HANDLERS,
            include_in_schema=False,
        ),
    ]
