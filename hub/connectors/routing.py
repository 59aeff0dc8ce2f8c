"""Which connector carries out a live action for a tenant.

The rule (docs/connectors.md): the tenant's enabled connector that handles the action
(the oldest configured when several could), else the tenant's upstream product when
it has one, else nothing — the actions capability answers 422 ``NO_HANDLER``.
"""

from __future__ import annotations

import logging
from typing import Any

from hub.actions.handlers import ActionCall, ActionFailed, ActionHandler
from hub.connectors.health import circuit_open, mark_failing
from hub.connectors.product import ProductConfig, product_config
from hub.connectors.protocol import Connector, ConnectorRegistry, ConnectorUnusable
from hub.connectors.service import Configured, configured_for_action
from hub.runtime import Runtime
from hub.store.driver import DATABASE_ERRORS

log = logging.getLogger("hub.connectors")


def _bound(configured: Configured) -> ActionHandler:
    connector, config = configured.connector, configured.config

    async def handler(rt: Runtime, call: ActionCall) -> Any:
        if configured.failing_reason is not None:
            raise circuit_open(connector.name, configured.failing_reason)
        try:
            return await connector.handle(rt, config, call)
        except ConnectorUnusable as refused:
            if configured.row_id:  # the product has no row: its failure is the tenant's
                await mark_failing(
                    rt,
                    tenant_id=configured.tenant_id,
                    connector=connector.name,
                    connector_id=configured.row_id,
                    reason=refused.reason,
                )
            raise

    return handler


class ConnectorRouter:
    """The actions capability's ``HandlerResolver``, over the hub's connectors."""

    def __init__(
        self,
        rt: Runtime,
        registry: ConnectorRegistry,
        product: Connector[ProductConfig] | None = None,
    ) -> None:
        self.rt = rt
        self.registry = registry
        self.product = product

    async def resolve(self, tenant_id: str, action: str) -> tuple[str, ActionHandler] | None:
        try:
            configured = await configured_for_action(self.rt, self.registry, tenant_id, action)
            if configured is None and self.product is not None and self.product.handles(action):
                config = await product_config(self.rt, tenant_id)
                if config is not None:
                    configured = Configured(self.product, config, "", tenant_id)
        except DATABASE_ERRORS:
            log.warning("could not read the tenant's connectors", exc_info=True)
            raise ActionFailed(
                "UNAVAILABLE", "could not read the tenant's connectors; retry shortly"
            ) from None
        if configured is None:
            return None
        return configured.connector.name, _bound(configured)
