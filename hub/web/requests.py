"""What a controller needs from a request: the runtime, the caller, the body."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request

from hub.admin.auth import AdminPrincipal
from hub.admin.tokens import authenticate_admin
from hub.runtime import Runtime
from hub.tenancy.auth import IntegrationPrincipal, authenticate_key, credential_from_headers
from hub.web.decoding import decode_body

T = TypeVar("T")

AnyRequest = Request[Any, Any, Any]


def runtime_of(request: AnyRequest) -> Runtime:
    rt: Runtime = request.app.state["rt"]
    return rt


def _source(request: AnyRequest) -> str:
    return request.client.host if request.client else "unknown"


def _credential(request: AnyRequest) -> str | None:
    headers = request.headers
    return credential_from_headers(headers.get("authorization"), headers.get("x-api-key"))


async def integration_of(request: AnyRequest) -> IntegrationPrincipal:
    return await authenticate_key(runtime_of(request), _credential(request), _source(request))


async def admin_of(request: AnyRequest) -> AdminPrincipal:
    return await authenticate_admin(runtime_of(request), _credential(request), _source(request))


async def body_of(request: AnyRequest, type_: type[T]) -> T:
    raw = await request.body()
    return decode_body(raw, type_, request.headers.get("content-type"))


async def optional_body_of(request: AnyRequest, type_: type[T]) -> T:
    """An empty body means "all defaults" (e.g. rotate without options)."""
    raw = await request.body()
    if not raw.strip():
        return decode_body(b"{}", type_, "application/json")
    return decode_body(raw, type_, request.headers.get("content-type"))
