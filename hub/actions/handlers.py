"""The handler protocol: what runs an action, and how it says no or fails.

A handler gets an ``ActionCall`` and returns the outputs (a Struct of the action's
output type, or a mapping converted to it). It answers in one of three ways:

- returns outputs: the execution succeeded; the answer is stored and replayed;
- raises ``ActionRejected``: a definitive "no" (the upstream's 4xx) — stored and
  replayed as 422, because repeating the same request cannot change the answer;
- raises ``ActionFailed``: retriable (upstream 5xx, timeout, unreachable, not
  configured or not allowed) — the Idempotency-Key is released so the client's
  retry runs again.

Handlers are looked up by name in ``ActionsState.handlers`` (the actions capability's
own: sandbox, publish). An action whose spec names the ``ROUTED`` handler is carried
out per tenant: ``ActionsState.resolver`` (the connectors' router, given by the
composition root) picks the tenant's connector or upstream product, or none (422
``NO_HANDLER``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from hub.web.errors import FieldError

if TYPE_CHECKING:
    from hub.actions.spec import ActionSpec
    from hub.runtime import Runtime

# Failure codes a handler may raise: answered as problems, never stored. RATE_LIMITED
# and QUOTA_EXCEEDED are a provider's or a channel's limits (with Retry-After); the
# last three are a tenant's configuration an admin can fix, so a retry may succeed.
RetriableCode = Literal[
    "UPSTREAM_ERROR",
    "UPSTREAM_TIMEOUT",
    "UNAVAILABLE",
    "RATE_LIMITED",
    "QUOTA_EXCEEDED",
    "TARGET_NOT_ALLOWED",
    "NO_HANDLER",
    "RECIPIENT_SUPPRESSED",
]
RETRIABLE_CODES: frozenset[str] = frozenset(get_args(RetriableCode))


@dataclass(frozen=True, slots=True)
class ActionCall:
    action: ActionSpec
    inputs: Any  # an instance of ``action.input_type``
    tenant_id: str
    integration_id: str
    execution_id: str
    idempotency_key: str
    # Stable for one key's whole window (across retries and lock takeovers): handlers
    # derive their own dedupe ids from it (event producer ids, webhook-id upstream).
    idempotency_id: str
    correlation_id: str
    sandbox: bool
    started_at: datetime  # from rt.clock


class ActionRejected(Exception):
    """A definitive rejection: answered 422 ``VALIDATION_FAILED``, stored and replayed."""

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.extra = dict(extra or {})


class ActionFailed(Exception):
    """A retriable failure: the key is released, the client may retry with it."""

    def __init__(
        self,
        code: RetriableCode,
        detail: str,
        *,
        retry_after: int | None = None,
        errors: Sequence[FieldError] = (),
    ) -> None:
        if code not in RETRIABLE_CODES:
            raise ValueError(f"{code} is not a retriable failure code")
        super().__init__(detail)
        self.code: RetriableCode = code
        self.detail = detail
        self.retry_after = retry_after
        self.errors = list(errors)


class ActionHandler(Protocol):
    async def __call__(self, rt: Runtime, call: ActionCall) -> Any:
        """The outputs (``call.action.output_type`` or a mapping of its fields)."""
        ...


# The handler name of live actions carried out by the tenant's connectors or product.
ROUTED = "upstream"


class HandlerResolver(Protocol):
    async def resolve(self, tenant_id: str, action: str) -> tuple[str, ActionHandler] | None:
        """The name and handler that carry out ``action`` live for the tenant, or None."""
        ...
