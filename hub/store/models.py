"""Every model, imported once so ``Base.metadata`` is complete (alembic, tests)."""

from hub.actions.models import Execution, IdempotencyRecord
from hub.admin.models import AdminToken, PortalLinkRow
from hub.audit.models import AuditEntry
from hub.connectors.models import OutboundMessage, Suppression, TenantConnector
from hub.delivery.models import Delivery, DeliveryAttempt
from hub.events.models import Event
from hub.hooks.models import Subscription, SubscriptionSecret
from hub.security.models import HubSecret
from hub.store.base import Base
from hub.tenancy.models import ApiKey, Integration, Tenant

__all__ = [
    "AdminToken",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "Execution",
    "HubSecret",
    "IdempotencyRecord",
    "Integration",
    "OutboundMessage",
    "PortalLinkRow",
    "Subscription",
    "SubscriptionSecret",
    "Suppression",
    "Tenant",
    "TenantConnector",
]
