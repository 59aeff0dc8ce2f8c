"""The actions capability's services, built once per hub by the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.actions.answers import AnswerCache
from hub.actions.executions import ReplayCounter
from hub.actions.handlers import ROUTED, ActionFailed, ActionHandler, HandlerResolver
from hub.actions.limits import ActionLimiter
from hub.actions.publish import publish_handler
from hub.actions.records import IdempotencyStore
from hub.actions.sandbox import sandbox_handler
from hub.runtime import Runtime

# The window has a floor: a key must outlive every client's retry schedule.
MIN_TTL_SECONDS = 3600

# Handlers the actions capability brings itself; live actions are carried out by the
# tenant's connectors (``resolver``).
BUILT_IN_HANDLERS: Mapping[str, ActionHandler] = {
    "sandbox": sandbox_handler,
    "publish": publish_handler,
}


@dataclass(frozen=True)
class ActionsState:
    store: IdempotencyStore
    limiter: ActionLimiter
    replays: ReplayCounter
    answers: AnswerCache
    handlers: Mapping[str, ActionHandler]  # by the name an ActionSpec's handler_for gives
    resolver: HandlerResolver | None = None  # carries out ROUTED actions per tenant

    async def route(self, name: str, tenant_id: str, action: str) -> tuple[str, ActionHandler]:
        """The handler for ``name`` (an ActionSpec's ``handler_for``), resolved per
        tenant for ``ROUTED`` ones; raises ``ActionFailed`` when there is none."""
        if name == ROUTED and self.resolver is not None:
            resolved = await self.resolver.resolve(tenant_id, action)
            if resolved is None:
                raise ActionFailed(
                    "NO_HANDLER",
                    f"nothing carries out {action} for this tenant: an admin configures a "
                    "connector that handles it (PUT /admin/v1/tenants/{id}/connectors/{name}) "
                    "or the upstream product (upstream_url and upstream_secret with "
                    "PATCH /admin/v1/tenants/{id})",
                )
            return resolved
        handler = self.handlers.get(name)
        if handler is None:
            raise ActionFailed("UNAVAILABLE", f"no {name} handler is configured")
        return name, handler

    async def aclose(self) -> None:
        await self.replays.aclose()  # the replay counts not yet flushed


def idempotency_store(rt: Runtime) -> IdempotencyStore:
    """The records of ``rt``'s database, with the lock and window its settings give."""
    return IdempotencyStore(
        rt.db,
        lock_seconds=rt.settings.idempotency_lock_seconds,
        ttl_seconds=max(MIN_TTL_SECONDS, rt.settings.idempotency_ttl_seconds),
        records=rt.stores.idempotency,
    )


def build_actions(
    rt: Runtime,
    handlers: Mapping[str, ActionHandler] = {},
    resolver: HandlerResolver | None = None,
) -> ActionsState:
    return ActionsState(
        store=idempotency_store(rt),
        limiter=ActionLimiter(rt.redis, rt.keys, rt.clock),
        replays=ReplayCounter(rt.db),
        answers=AnswerCache(),
        handlers={**BUILT_IN_HANDLERS, **handlers},
        resolver=resolver,
    )
