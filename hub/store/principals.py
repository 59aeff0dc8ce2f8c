"""Key authentication's one read: an API key's row with its integration and tenant.

Every authenticated request runs it, so on Postgres it is the select on the pooled
connection's driver (``driver.py``): ~0.2 ms of CPU instead of ~0.5 ms through the
Core and ~1.2 ms as ORM objects in a session (docs/performance.md). Nothing is
cached in either implementation: a revoked key is refused by the very next request,
in every process.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam, select

from hub.store.driver import pg_compiled, pg_driver
from hub.store.engine import Database
from hub.tenancy.models import ApiKey, Integration, Tenant


class PrincipalRow(NamedTuple):
    """The columns of ``PRINCIPAL``, in its order (the implementations build it positionally)."""

    key_id: str
    secret_hash: bytes
    key_status: str
    expires_at: datetime | None
    integration_id: str
    integration_name: str
    kind: str
    mode: str
    scopes: list[str]
    integration_status: str
    integration_limits: dict[str, object] | None
    policy_overrides: dict[str, object] | None
    tenant_id: str
    tenant_name: str
    tenant_status: str
    tenant_limits: dict[str, object] | None


class PrincipalLookup(Protocol):
    async def principal(self, key_id: str) -> PrincipalRow | None:
        """The key's row, or None for an unknown id; one autocommit round trip."""
        ...


PRINCIPAL = (
    select(
        ApiKey.id.label("key_id"),
        ApiKey.secret_hash,
        ApiKey.status.label("key_status"),
        ApiKey.expires_at,
        Integration.id.label("integration_id"),
        Integration.name.label("integration_name"),
        Integration.kind,
        Integration.mode,
        Integration.scopes,
        Integration.status.label("integration_status"),
        Integration.limits.label("integration_limits"),
        Integration.policy_overrides,
        Tenant.id.label("tenant_id"),
        Tenant.name.label("tenant_name"),
        Tenant.status.label("tenant_status"),
        Tenant.limits.label("tenant_limits"),
    )
    .join(Integration, Integration.id == ApiKey.integration_id)
    .join(Tenant, Tenant.id == Integration.tenant_id)
    .where(ApiKey.id == bindparam("key_id"))
)
# The same select as SQL for the driver ($1 = the key id): one definition, compiled once.
_PRINCIPAL_PG = pg_compiled(PRINCIPAL).string


class PgPrincipals:
    """Postgres: the select on the asyncpg driver, outside any transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def principal(self, key_id: str) -> PrincipalRow | None:
        async with pg_driver(self.db) as driver:
            row = await driver.fetchrow(_PRINCIPAL_PG, key_id)
        return None if row is None else PrincipalRow._make(row)


class PortablePrincipals:
    """Any database: the Core select on an autocommit connection."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def principal(self, key_id: str) -> PrincipalRow | None:
        async with self.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await conn.execute(PRINCIPAL, {"key_id": key_id})).first()
        return None if row is None else PrincipalRow._make(row)
