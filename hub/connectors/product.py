"""The tenant's upstream product as a connector's configuration.

The product is the one connector a tenant does not configure through the connectors
API: its URL and signing secret are the tenant's own fields (``upstream_url``,
``upstream_secret``: PATCH /admin/v1/tenants/{id}). The hub reads and decrypts them
here and hands the product connector (``integrations/upstream.py``) a ``ProductConfig``.
"""

from __future__ import annotations

import logging

import msgspec
from sqlalchemy import select

from hub.actions.handlers import ActionFailed
from hub.runtime import Runtime
from hub.security.encryption import DecryptionError
from hub.tenancy.models import Tenant

log = logging.getLogger("hub.connectors")


class ProductConfig(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    secret: str  # the Standard Webhooks signing secret, decrypted


async def product_config(rt: Runtime, tenant_id: str) -> ProductConfig | None:
    """The tenant's product, or None when it has none (URL or secret missing)."""
    async with rt.db.session() as session:
        row = (
            await session.execute(
                select(Tenant.upstream_url, Tenant.upstream_secret_encrypted).where(
                    Tenant.id == tenant_id
                )
            )
        ).first()
    if row is None or not row[0] or not row[1]:
        return None
    try:
        secret = rt.vault.decrypt(row[1])
    except DecryptionError:
        log.error("upstream secret does not decrypt", extra={"tenant_id": tenant_id})
        raise ActionFailed("UNAVAILABLE", "the tenant's upstream secret is unusable") from None
    return ProductConfig(url=row[0], secret=secret)
