"""The admin a request acts as, for the admin controllers of every capability."""

from __future__ import annotations

from hub.admin.auth import AdminPrincipal
from hub.admin.tokens import authenticate_admin
from hub.web.requests import AnyRequest, credential_of, runtime_of, source_of


async def admin_of(request: AnyRequest) -> AdminPrincipal:
    """Authenticate the request's admin token (401/403 problems otherwise)."""
    return await authenticate_admin(runtime_of(request), credential_of(request), source_of(request))
