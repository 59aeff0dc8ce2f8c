"""Portal links: a signed, expiring, revocable URL that opens one integration's portal.

The token is ``<link id>.<expiry>.<signature>``: an HMAC (a key derived from the
installation's pepper) over the link id, its integration and its expiry, so no one can
forge or stretch one. The link is also a row in the database (``portal_links``, never
the token): revoking stamps it, and every portal page checks it is still live, so a
revoked link — and every session it opened — stops at once, in every process (a link
``hub admin portal-link`` issued works on a ``hub dev`` server beside it).

Issued by admins (API, ``hub admin portal-link``); redeemed by ``hub.console.portal``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from hub.admin.auth import AdminPrincipal
from hub.admin.models import PortalLinkRow
from hub.audit.service import record
from hub.ids import new_id
from hub.runtime import Runtime
from hub.tenancy import service as tenancy
from hub.web.errors import ProblemError

DEFAULT_TTL_SECONDS = 3600
_LAST_SECOND = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
ENTER_PATH = "/portal/enter"


class PortalLinkCreate(msgspec.Struct, forbid_unknown_fields=True):
    # How long the link opens the portal (a session it opened lasts at most as long).
    ttl_seconds: Annotated[int, Meta(ge=60, le=7 * 24 * 3600)] = DEFAULT_TTL_SECONDS


class PortalLink(msgspec.Struct):
    """The link is shown only here: send it to the person behind the zap or scenario."""

    link_id: str
    integration_id: str
    url: str
    expires_at: datetime


class LinkRecord(msgspec.Struct, frozen=True):
    integration_id: str
    tenant_id: str
    expires_at: datetime
    created_by: str


def _signature(rt: Runtime, link_id: str, integration_id: str, expiry: int) -> str:
    key = rt.hasher.derive("portal-link")
    mac = hmac.new(key, f"{link_id}.{integration_id}.{expiry}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


async def create_link(
    rt: Runtime, admin: AdminPrincipal, integration_id: str, body: PortalLinkCreate
) -> PortalLink:
    integration = await tenancy.get_integration(rt, admin, integration_id)  # 404 if not theirs
    now = rt.clock.now()
    expires_at = (now + timedelta(seconds=body.ttl_seconds)).replace(microsecond=0)
    expiry = int(expires_at.timestamp())
    link_id = new_id("portal_link")
    async with rt.db.transaction() as session:
        session.add(
            PortalLinkRow(
                id=link_id,
                tenant_id=integration.tenant_id,
                integration_id=integration.id,
                created_by=admin.actor,
                created_at=now,
                expires_at=expires_at,
            )
        )
        record(
            session,
            at=now,
            actor=admin.actor,
            action="portal_link.created",
            tenant_id=integration.tenant_id,
            integration_id=integration.id,
            target_type="portal_link",
            target_id=link_id,
            details={"ttl_seconds": body.ttl_seconds},
        )
    token = f"{link_id}.{expiry}.{_signature(rt, link_id, integration.id, expiry)}"
    url = f"{rt.settings.public_base_url.rstrip('/')}{ENTER_PATH}?token={token}"
    return PortalLink(link_id, integration.id, url, expires_at)


async def live_link(rt: Runtime, link_id: str) -> LinkRecord | None:
    """The link, unless it is unknown, revoked or expired."""
    if len(link_id) > 40:
        return None
    async with rt.db.session() as session:
        row = await session.get(PortalLinkRow, link_id)
    if row is None or row.revoked_at is not None or row.expires_at <= rt.clock.now():
        return None
    return LinkRecord(row.integration_id, row.tenant_id, row.expires_at, row.created_by)


async def redeem(rt: Runtime, token: str) -> tuple[str, LinkRecord] | None:
    """The link a token names, if the token is genuine, unexpired and not revoked."""
    parts = token.split(".") if len(token) <= 200 and token.isascii() else []
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    link_id, signature = parts[0], parts[2]
    expiry = int(parts[1]) if len(parts[1]) <= 12 else 0  # 12 digits reach past year 9999
    if expiry > _LAST_SECOND or datetime.fromtimestamp(expiry, UTC) <= rt.clock.now():
        return None
    entry = await live_link(rt, link_id)
    if entry is None or int(entry.expires_at.timestamp()) != expiry:
        return None
    expected = _signature(rt, link_id, entry.integration_id, expiry)
    if not hmac.compare_digest(expected, signature):
        return None
    return link_id, entry


async def revoke_link(rt: Runtime, admin: AdminPrincipal, link_id: str) -> None:
    if len(link_id) > 40:
        raise ProblemError("NOT_FOUND", "no such portal link (or it has expired)")
    """A revoked, expired or unknown link is 404 (nothing left to revoke), as is
    another tenant's."""
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        row = await session.get(PortalLinkRow, link_id, with_for_update=True)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise ProblemError("NOT_FOUND", "no such portal link (or it has expired)")
        admin.require_tenant(row.tenant_id)
        row.revoked_at = now
        record(
            session,
            at=now,
            actor=admin.actor,
            action="portal_link.revoked",
            tenant_id=row.tenant_id,
            integration_id=row.integration_id,
            target_type="portal_link",
            target_id=link_id,
            details={},
        )
