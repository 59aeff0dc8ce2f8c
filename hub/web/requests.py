"""What a controller needs from a request: the runtime, the credential, the body.

Who the caller is comes from the capability that issues the credential:
``hub.tenancy.requests.integration_of`` (an API key) and ``hub.admin.requests.admin_of``
(an admin token); both read the credential and the source address here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request

from hub.runtime import Runtime
from hub.web.decoding import decode_body

T = TypeVar("T")

AnyRequest = Request[Any, Any, Any]


def runtime_of(request: AnyRequest) -> Runtime:
    rt: Runtime = request.app.state["rt"]
    return rt


def source_of(request: AnyRequest) -> str:
    """The client's address (what failed authentication is counted by)."""
    return request.client.host if request.client else "unknown"


def credential_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    if x_api_key:
        return x_api_key.strip() or None
    return None


def credential_of(request: AnyRequest) -> str | None:
    """The bearer credential (``Authorization: Bearer``, else ``X-API-Key``), if any."""
    headers = request.headers
    return credential_from_headers(headers.get("authorization"), headers.get("x-api-key"))


async def body_of(request: AnyRequest, type_: type[T]) -> T:
    raw = await request.body()
    return decode_body(raw, type_, request.headers.get("content-type"))


async def optional_body_of(request: AnyRequest, type_: type[T]) -> T:
    """An empty body means "all defaults" (e.g. rotate without options)."""
    raw = await request.body()
    if not raw.strip():
        return decode_body(b"{}", type_, "application/json")
    return decode_body(raw, type_, request.headers.get("content-type"))
