"""Subscription signing secrets: created encrypted, rotated with a grace period.

``live_secrets`` is what the delivery engine signs with: every secret not yet
expired, newest first (one ``webhook-signature`` entry each while a rotation's
grace period runs).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.hooks.models import SubscriptionSecret
from hub.ids import new_ulid
from hub.security.encryption import Vault
from hub.security.signing import new_signing_secret

# hub.ids has no kind for secrets; same layout, own prefix.
_PREFIX = "whs_"


def new_secret(vault: Vault, subscription_id: str, now: datetime) -> tuple[SubscriptionSecret, str]:
    """A new ``whsec_`` secret: the row (encrypted) and the plaintext, shown once."""
    secret = new_signing_secret()
    row = SubscriptionSecret(
        id=_PREFIX + new_ulid(),
        subscription_id=subscription_id,
        secret_encrypted=vault.encrypt(secret),
        created_at=now,
        expires_at=None,
    )
    return row, secret


async def live_secret_rows(
    session: AsyncSession, subscription_id: str, now: datetime
) -> list[SubscriptionSecret]:
    rows = await session.scalars(
        select(SubscriptionSecret)
        .where(
            SubscriptionSecret.subscription_id == subscription_id,
            or_(SubscriptionSecret.expires_at.is_(None), SubscriptionSecret.expires_at > now),
        )
        # The current secret (never expiring) first, then the rotated-out ones.
        .order_by(
            SubscriptionSecret.expires_at.is_(None).desc(),
            SubscriptionSecret.created_at.desc(),
            SubscriptionSecret.id.desc(),
        )
    )
    return list(rows)


async def live_secrets(
    session: AsyncSession, vault: Vault, subscription_id: str, now: datetime
) -> list[str]:
    """The plaintext secrets to sign a delivery with, newest first."""
    rows = await live_secret_rows(session, subscription_id, now)
    return [vault.decrypt(r.secret_encrypted) for r in rows]


async def rotate(
    session: AsyncSession, vault: Vault, subscription_id: str, now: datetime, grace_seconds: int
) -> tuple[SubscriptionSecret, str, datetime | None]:
    """Add a secret; the live ones keep signing for ``grace_seconds`` more at most."""
    expires = now + timedelta(seconds=grace_seconds)
    latest: datetime | None = None
    for row in await live_secret_rows(session, subscription_id, now):
        if row.expires_at is None or row.expires_at > expires:
            row.expires_at = expires
        latest = max(latest or row.expires_at, row.expires_at)
    row, secret = new_secret(vault, subscription_id, now)
    session.add(row)
    return row, secret, latest


def secret_status(row: SubscriptionSecret, now: datetime) -> str:
    if row.expires_at is None:
        return "active"
    return "expired" if row.expires_at <= now else "expiring"
