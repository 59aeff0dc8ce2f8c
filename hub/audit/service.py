"""Writing and reading the audit log. Entries are added in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.models import AuditEntry
from hub.ids import new_id
from hub.web.context import current_request_id


def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    tenant_id: str | None = None,
    integration_id: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        id=new_id("audit"),
        at=at,
        actor=actor,
        action=action,
        outcome=outcome,
        tenant_id=tenant_id,
        integration_id=integration_id,
        target_type=target_type,
        target_id=target_id,
        correlation_id=correlation_id or current_request_id() or None,
        details=details or {},
    )
    session.add(entry)
    return entry


def audit_query(
    *,
    tenant_id: str | None = None,
    integration_id: str | None = None,
    correlation_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: str | None = None,
    limit: int = 100,
) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if tenant_id is not None:
        stmt = stmt.where(AuditEntry.tenant_id == tenant_id)
    if integration_id is not None:
        stmt = stmt.where(AuditEntry.integration_id == integration_id)
    if correlation_id is not None:
        stmt = stmt.where(AuditEntry.correlation_id == correlation_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return stmt.order_by(AuditEntry.id.desc()).limit(limit)
