"""A tenant connector's health: failing once its provider refuses the credentials.

Failing is a circuit that stays open until an admin acts: retrying a refused token
cannot succeed, and every call would cost the provider's patience (and rate). The
hub records why (``tenant_connectors.failing_reason``, shown by the admin API),
audits it, counts it and publishes ``connector.failing`` to the tenant's subscribers;
saving the configuration again closes it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from sqlalchemy import func, select, update

from hub.actions.handlers import ActionFailed
from hub.audit.service import record
from hub.connectors.models import TenantConnector
from hub.events.ingest import publish_internal
from hub.runtime import Runtime
from hub.store.driver import DATABASE_ERRORS

log = logging.getLogger("hub.connectors.health")

CONNECTOR_FAILURES = Counter(
    "hub_connector_failures_total",
    "Tenant connectors marked failing (their provider refused the credentials), by connector",
    ["connector"],
)


def circuit_open(connector: str, reason: str) -> ActionFailed:
    return ActionFailed(
        "UPSTREAM_ERROR",
        f"the tenant's {connector} connector is failing ({reason}); nothing is sent until "
        "an admin saves its configuration again (PUT /admin/v1/tenants/{id}/connectors/"
        f"{connector})",
    )


async def mark_failing(
    rt: Runtime, *, tenant_id: str, connector: str, connector_id: str, reason: str
) -> None:
    """Open the circuit (once: a second refusal while open changes nothing)."""
    now = rt.clock.now()
    try:
        async with rt.db.transaction() as session:
            result = await session.execute(
                update(TenantConnector)
                .where(TenantConnector.id == connector_id, TenantConnector.failing_since.is_(None))
                .values(failing_reason=reason, failing_since=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return
            record(
                session,
                at=now,
                actor="hub",
                action="connector.failing",
                tenant_id=tenant_id,
                target_type="connector",
                target_id=connector_id,
                details={"connector": connector, "reason": reason},
            )
        CONNECTOR_FAILURES.labels(connector).inc()
        log.warning(
            "a tenant connector is failing",
            extra={"tenant_id": tenant_id, "connector": connector, "reason": reason},
        )
        await publish_internal(
            rt,
            tenant_id=tenant_id,
            integration_id=connector_id,
            event_type="connector.failing",
            producer_id=f"connector.failing:{connector_id}:{now.isoformat()}",
            data={
                "connector": connector,
                "connector_id": connector_id,
                "reason": reason,
                "failing_since": now.isoformat(),
            },
            sandbox=False,
        )
    except DATABASE_ERRORS:
        # The refusal still reaches the caller; the next refusal records it.
        log.warning("could not record a failing connector", exc_info=True)


def failing_probe(rt: Runtime) -> Callable[[], Awaitable[str]]:
    """/readyz: "ok", or how many tenant connectors are failing (degraded, not unready)."""

    async def probe() -> str:
        async with rt.db.session() as session:
            failing = await session.scalar(
                select(func.count())
                .select_from(TenantConnector)
                .where(TenantConnector.failing_since.is_not(None))
            )
        return (
            "ok" if not failing else f"{failing} failing (GET /admin/v1/tenants/{{id}}/connectors)"
        )

    return probe
