"""Authenticating an integration's API key: one indexed lookup, one constant-time check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.audit.bursts import note_auth_failure
from hub.runtime import Runtime
from hub.tenancy.keys import parse_api_key
from hub.tenancy.scopes import scope_allows
from hub.web.context import integration_id_var, tenant_id_var
from hub.web.errors import ProblemCode, ProblemError
from hub.web.metrics import AUTH_FAILURES


@dataclass(frozen=True, slots=True)
class IntegrationPrincipal:
    """The integration a request acts as; every query it makes is scoped to it."""

    key_id: str
    integration_id: str
    integration_name: str
    tenant_id: str
    tenant_name: str
    kind: str
    mode: str
    scopes: tuple[str, ...]
    status: str
    limits: dict[str, Any]
    tenant_limits: dict[str, Any]
    policy_overrides: dict[str, Any]

    @property
    def sandbox(self) -> bool:
        return self.mode == "sandbox"

    def require_scope(self, needed: str) -> None:
        if not scope_allows(self.scopes, needed):
            raise ProblemError("FORBIDDEN_SCOPE", f"this integration lacks the scope {needed}")


async def _fail(rt: Runtime, code: ProblemCode, source: str, detail: str) -> ProblemError:
    AUTH_FAILURES.labels("integration", code).inc()
    await note_auth_failure(rt, "integration", source)
    return ProblemError(code, detail, headers={"WWW-Authenticate": 'Bearer realm="hub"'})


async def authenticate_key(
    rt: Runtime, credential: str | None, source: str
) -> IntegrationPrincipal:
    if credential is None:
        raise await _fail(
            rt, "UNAUTHENTICATED", source, "send the API key as 'Authorization: Bearer hk_...'"
        )
    parsed = parse_api_key(credential)
    if parsed is None:
        raise await _fail(rt, "UNAUTHENTICATED", source, "the API key is not valid")
    # One indexed read (hub/store/principals.py); nothing is cached, so a revoked
    # key is refused by the very next request, in every process.
    row = await rt.stores.principals.principal(parsed.key_id)
    # Hash even when the id is unknown so both paths cost the same.
    matches = rt.hasher.verify(parsed.secret, row.secret_hash if row is not None else b"\0" * 32)
    if row is None or not matches:
        raise await _fail(rt, "UNAUTHENTICATED", source, "the API key is not valid")
    now = rt.clock.now()
    if row.key_status == "revoked":
        raise await _fail(rt, "KEY_REVOKED", source, "this API key was revoked")
    expires_at = row.expires_at
    if expires_at is not None and expires_at <= now:
        raise await _fail(
            rt, "KEY_EXPIRED", source, "this API key was rotated and its grace period is over"
        )
    if row.integration_status != "active" or row.tenant_status != "active":
        raise ProblemError("INTEGRATION_DISABLED", "this integration is disabled")
    rt.key_usage.touch(row.key_id, now)
    tenant_id_var.set(row.tenant_id)
    integration_id_var.set(row.integration_id)
    return IntegrationPrincipal(
        key_id=row.key_id,
        integration_id=row.integration_id,
        integration_name=row.integration_name,
        tenant_id=row.tenant_id,
        tenant_name=row.tenant_name,
        kind=row.kind,
        mode=row.mode,
        scopes=tuple(row.scopes),
        status=row.integration_status,
        limits=dict(row.integration_limits or {}),
        tenant_limits=dict(row.tenant_limits or {}),
        policy_overrides=dict(row.policy_overrides or {}),
    )
