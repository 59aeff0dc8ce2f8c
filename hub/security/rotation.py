"""Re-encrypt every stored secret under the first ``HUB_SECRET_KEYS`` key.

Each table with encrypted columns is listed here; after a run the old keys can
be removed from the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from hub.audit.service import record
from hub.hooks.models import SubscriptionSecret
from hub.security.store import reencrypt_hub_secrets
from hub.tenancy.models import Tenant

if TYPE_CHECKING:
    from hub.runtime import Runtime


async def reencrypt_all(rt: Runtime) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with rt.db.transaction() as session:
        counts["hub_secrets"] = await reencrypt_hub_secrets(session, rt.vault)
        tenants = (
            await session.scalars(
                select(Tenant).where(Tenant.upstream_secret_encrypted.is_not(None))
            )
        ).all()
        for tenant in tenants:
            assert tenant.upstream_secret_encrypted is not None
            tenant.upstream_secret_encrypted = rt.vault.rotate(tenant.upstream_secret_encrypted)
        counts["tenant_upstream_secrets"] = len(tenants)
        secrets = (await session.scalars(select(SubscriptionSecret))).all()
        for secret in secrets:
            secret.secret_encrypted = rt.vault.rotate(secret.secret_encrypted)
        counts["subscription_secrets"] = len(secrets)
        record(
            session,
            at=rt.clock.now(),
            actor="cli",
            action="encryption_key.rotated",
            details=dict(counts),
        )
    return counts
