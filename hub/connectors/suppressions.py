"""A tenant's suppression list: addresses its e-mail must not reach.

An address joins when it hard-bounced or its recipient complained (the e-mail
connector adds it from the provider's webhook) or when an admin adds it; only an admin
takes it off (audited). A send to a suppressed address answers 422
``RECIPIENT_SUPPRESSED`` and leaves its Idempotency-Key free, so the same request
succeeds once the address is cleared.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hub.admin.auth import AdminPrincipal
from hub.audit.service import record
from hub.connectors.models import Suppression
from hub.runtime import Runtime
from hub.tenancy.models import Tenant
from hub.web.errors import ProblemError


class SuppressionView(msgspec.Struct, kw_only=True):
    address: str
    reason: str  # hard_bounce | complaint | manual
    created_at: str


def normal(address: str) -> str:
    return address.strip().lower()


async def suppressed(rt: Runtime, tenant_id: str, addresses: Sequence[str]) -> set[str]:
    """Which of ``addresses`` (any case) the tenant suppresses, in lower case."""
    wanted = {normal(a) for a in addresses}
    if not wanted:
        return set()
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(Suppression.address).where(
                Suppression.tenant_id == tenant_id, Suppression.address.in_(sorted(wanted))
            )
        )
        return set(rows)


async def suppress(rt: Runtime, tenant_id: str, address: str, reason: str) -> bool:
    """Add ``address`` (the first reason stays); whether it was new."""
    try:
        async with rt.db.transaction() as session:
            session.add(
                Suppression(
                    tenant_id=tenant_id,
                    address=normal(address),
                    reason=reason,
                    created_at=rt.clock.now(),
                )
            )
            record(
                session,
                at=rt.clock.now(),
                actor="hub",
                action="suppression.added",
                tenant_id=tenant_id,
                target_type="suppression",
                details={"reason": reason},  # never the address
            )
    except IntegrityError:
        return False
    return True


async def _tenant(rt: Runtime, admin: AdminPrincipal, tenant_id: str) -> None:
    admin.require_tenant(tenant_id)
    async with rt.db.session() as session:
        if await session.get(Tenant, tenant_id) is None:
            raise ProblemError("NOT_FOUND", "no such tenant")


async def list_suppressions(
    rt: Runtime, admin: AdminPrincipal, tenant_id: str, *, after: str | None, limit: int
) -> list[SuppressionView]:
    await _tenant(rt, admin, tenant_id)
    async with rt.db.session() as session:
        stmt = (
            select(Suppression)
            .where(Suppression.tenant_id == tenant_id)
            .order_by(Suppression.address)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(Suppression.address > after)
        return [
            SuppressionView(address=s.address, reason=s.reason, created_at=s.created_at.isoformat())
            for s in await session.scalars(stmt)
        ]


async def clear(rt: Runtime, admin: AdminPrincipal, tenant_id: str, address: str) -> None:
    """Take ``address`` off the list (repeatable: clearing what is not there is fine)."""
    await _tenant(rt, admin, tenant_id)
    async with rt.db.transaction() as session:
        result = await session.execute(
            delete(Suppression).where(
                Suppression.tenant_id == tenant_id, Suppression.address == normal(address)
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            record(
                session,
                at=rt.clock.now(),
                actor=admin.actor,
                action="suppression.cleared",
                tenant_id=tenant_id,
                target_type="suppression",
            )
