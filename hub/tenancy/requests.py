"""The integration a request acts as, for the controllers of every capability."""

from __future__ import annotations

from hub.tenancy.auth import IntegrationPrincipal, authenticate_key
from hub.web.requests import AnyRequest, credential_of, runtime_of, source_of


async def integration_of(request: AnyRequest) -> IntegrationPrincipal:
    """Authenticate the request's API key (401/403 problems otherwise)."""
    return await authenticate_key(runtime_of(request), credential_of(request), source_of(request))
