"""Writing and reading the audit log. Entries are added in the caller's transaction.

Nothing here (or anywhere) updates or deletes an entry; on Postgres a trigger
refuses it too (migration 0001).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin.auth import AdminPrincipal
from hub.audit.models import AuditEntry
from hub.audit.schemas import AuditFilters, AuditView
from hub.ids import new_id
from hub.web.context import current_request_id
from hub.web.errors import FieldError, ProblemError
from hub.web.input_rules import TIMESTAMP_MESSAGE, in_range
from hub.web.query import MAX_PAGE

if TYPE_CHECKING:
    from hub.runtime import Runtime


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
    """Add one entry; ``correlation_id`` defaults to the current request's id.

    ``details`` must never hold a secret, key, token or personal data.
    """
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
    actor: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: str | None = None,
    limit: int = 100,
) -> Select[AuditEntry]:
    """Newest first; ids are time-ordered, so ``before_id`` pages stably."""
    stmt = select(AuditEntry)
    if tenant_id is not None:
        stmt = stmt.where(AuditEntry.tenant_id == tenant_id)
    if integration_id is not None:
        stmt = stmt.where(AuditEntry.integration_id == integration_id)
    if correlation_id is not None:
        stmt = stmt.where(AuditEntry.correlation_id == correlation_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return stmt.order_by(AuditEntry.id.desc()).limit(limit)


def _check_aware(filters: AuditFilters) -> None:
    errors: list[FieldError] = []
    for name, value in (("since", filters.since), ("until", filters.until)):
        if value is None:
            continue
        if value.tzinfo is None:
            message = "give a UTC offset, e.g. 2025-01-31T12:00:00Z"
            errors.append(FieldError(path=f"$.{name}", message=message))
        elif not in_range(value):
            errors.append(FieldError(path=f"$.{name}", message=TIMESTAMP_MESSAGE))
    if errors:
        raise ProblemError("VALIDATION_FAILED", "a time filter is not usable", errors=errors)


def view(entry: AuditEntry) -> AuditView:
    return AuditView(
        id=entry.id,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        outcome=entry.outcome,
        tenant_id=entry.tenant_id,
        integration_id=entry.integration_id,
        target_type=entry.target_type,
        target_id=entry.target_id,
        correlation_id=entry.correlation_id,
        details=entry.details,
    )


async def list_entries(
    rt: Runtime, admin: AdminPrincipal, filters: AuditFilters
) -> tuple[list[AuditView], str | None]:
    """A page of entries the admin may see, and the cursor of the next page (or None)."""
    _check_aware(filters)
    tenant_id = filters.tenant_id
    if admin.tenant_id is not None:
        if tenant_id is not None:
            admin.require_tenant(tenant_id)
        tenant_id = admin.tenant_id
    limit = max(1, min(filters.limit, MAX_PAGE))
    async with rt.db.session() as session:
        rows = list(
            await session.scalars(
                audit_query(
                    tenant_id=tenant_id,
                    integration_id=filters.integration_id,
                    correlation_id=filters.correlation_id,
                    action=filters.action,
                    actor=filters.actor,
                    target_id=filters.target_id,
                    since=filters.since,
                    until=filters.until,
                    before_id=filters.cursor,
                    limit=limit,
                )
            )
        )
    items = [view(r) for r in rows]
    return items, (items[-1].id if len(items) == limit else None)
