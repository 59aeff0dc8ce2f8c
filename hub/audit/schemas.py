"""Wire types of the audit log as the admin API answers it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class AuditView(msgspec.Struct):
    id: str
    at: datetime
    actor: str
    action: str
    outcome: str
    tenant_id: str | None
    integration_id: str | None
    target_type: str | None
    target_id: str | None
    correlation_id: str | None
    details: dict[str, Any]


class AuditFilters(msgspec.Struct, kw_only=True):
    """What ``GET /admin/v1/audit`` narrows by; ``cursor`` is the last id of the previous page."""

    tenant_id: str | None = None
    integration_id: str | None = None
    correlation_id: str | None = None
    action: str | None = None
    actor: str | None = None  # e.g. "admin:adm_…", "cli", "portal:pl_…"
    target_id: str | None = None  # the object acted on: a key id, a subscription id, …
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 100
