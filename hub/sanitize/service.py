"""Admin dry runs: what a given integration would receive for a given payload."""

from __future__ import annotations

from typing import Any

import msgspec

from hub.admin.auth import AdminPrincipal
from hub.events.catalog import EVENT_TYPES
from hub.runtime import Runtime
from hub.sanitize import default_policies, pseudonymizer_for
from hub.sanitize.policy import rules_text
from hub.sanitize.registry import CompiledPolicy
from hub.sanitize.schemas import PolicyView, PreviewRequest, PreviewResult
from hub.tenancy.models import Integration
from hub.web.decoding import collect_errors
from hub.web.errors import FieldError, ProblemError


async def _integration(rt: Runtime, admin: AdminPrincipal, integration_id: str) -> Integration:
    async with rt.db.session() as session:
        integration = await session.get(Integration, integration_id)
    if integration is None or (
        admin.tenant_id is not None and integration.tenant_id != admin.tenant_id
    ):
        raise ProblemError("NOT_FOUND", "no such integration")
    return integration


def _policy(event_type: str, overrides: dict[str, Any] | None) -> CompiledPolicy:
    if event_type not in EVENT_TYPES:
        raise ProblemError("NOT_FOUND", "no such event type")
    policy = default_policies().for_integration(event_type, overrides)
    if policy is None:
        raise ProblemError(
            "VALIDATION_FAILED",
            "nothing of this event type can be delivered to this integration",
            errors=[FieldError(path="$.integration_id", message="no usable policy")],
        )
    return policy


async def effective_policy(
    rt: Runtime, admin: AdminPrincipal, event_type: str, integration_id: str | None
) -> PolicyView:
    overrides = None
    if integration_id is not None:
        overrides = (await _integration(rt, admin, integration_id)).policy_overrides
    policy = _policy(event_type, overrides)
    return PolicyView(
        event_type=event_type, policy_version=policy.version, fields=rules_text(policy.rules)
    )


async def preview(
    rt: Runtime, admin: AdminPrincipal, event_type: str, body: PreviewRequest
) -> PreviewResult:
    integration = await _integration(rt, admin, body.integration_id)
    policy = _policy(event_type, integration.policy_overrides)
    try:
        typed = msgspec.convert(body.data, policy.data_type)
    except msgspec.ValidationError:
        errors = [
            FieldError(path="$.data" + e.path[1:], message=e.message)
            for e in collect_errors(body.data, policy.data_type)
        ]
        raise ProblemError(
            "VALIDATION_FAILED", f"data does not fit {event_type}", errors=errors
        ) from None
    sanitized = policy.sanitize(typed, pseudonymizer_for(rt.hasher, integration.tenant_id))
    return PreviewResult(
        event_type=event_type,
        integration_id=integration.id,
        policy_version=policy.version,
        data=msgspec.to_builtins(sanitized),
    )
