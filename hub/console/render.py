"""Pages as HTML: Jinja2 templates (autoescaped), the hub's own CSS and JS (vendored,
served by the hub: the console works on a network with no CDN), strict headers."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Response, get
from litestar.params import FromPath

from hub.web.errors import ProblemError

# Nothing but the hub's own files runs or loads; no page can be framed (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a portal link's token never leaks onwards
    "Cache-Control": "no-store",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "—"


_ENV = Environment(
    loader=PackageLoader("hub.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["when"] = _when


def page(
    template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response[str]:
    html = _ENV.get_template(template).render(**context)
    return Response(
        html,
        status_code=status_code,
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


_ASSETS = {"console.css": "text/css", "console.js": "text/javascript"}


@get("/console/static/{name:str}", include_in_schema=False)
async def asset(name: FromPath[str]) -> Response[bytes]:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise ProblemError("NOT_FOUND", "no such file")
    data = resources.files("hub.console").joinpath("static", name).read_bytes()
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
