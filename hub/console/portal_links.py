"""Portal links: a signed, expiring, revocable URL that opens one integration's portal.

The token is ``<link id>.<expiry>.<signature>``: an HMAC (a key derived from the
installation's pepper) over the link id, its integration and its expiry, so no one can
forge or stretch one. The link is also recorded in Redis until it expires: revoking
deletes the record, and every portal page checks it is still there, so a revoked
link — and every session it opened — stops at once.
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
from hub.audit.service import record
from hub.ids import new_id
from hub.runtime import Runtime
from hub.tenancy import service as tenancy
from hub.web.errors import ProblemError

DEFAULT_TTL_SECONDS = 3600
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


def _key(rt: Runtime, link_id: str) -> str:
    return rt.keys.custom("portal-link", link_id)


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
    entry = LinkRecord(integration.id, integration.tenant_id, expires_at, admin.actor)
    await rt.redis.set(_key(rt, link_id), msgspec.json.encode(entry), ex=body.ttl_seconds)
    async with rt.db.transaction() as session:
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
    raw = await rt.redis.get(_key(rt, link_id))
    if raw is None:
        return None
    entry = msgspec.json.decode(raw, type=LinkRecord)
    return entry if entry.expires_at > rt.clock.now() else None


async def redeem(rt: Runtime, token: str) -> tuple[str, LinkRecord] | None:
    """The link a token names, if the token is genuine, unexpired and not revoked."""
    parts = token.split(".") if len(token) <= 200 and token.isascii() else []
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    link_id, expiry, signature = parts[0], int(parts[1]), parts[2]
    if datetime.fromtimestamp(min(expiry, 2**40), UTC) <= rt.clock.now():
        return None
    entry = await live_link(rt, link_id)
    if entry is None or int(entry.expires_at.timestamp()) != expiry:
        return None
    expected = _signature(rt, link_id, entry.integration_id, expiry)
    if not hmac.compare_digest(expected, signature):
        return None
    return link_id, entry


async def revoke_link(rt: Runtime, admin: AdminPrincipal, link_id: str) -> None:
    entry = await live_link(rt, link_id) if len(link_id) <= 40 else None
    if entry is None:
        raise ProblemError("NOT_FOUND", "no such portal link (or it has expired)")
    admin.require_tenant(entry.tenant_id)
    await rt.redis.delete(_key(rt, link_id))
    async with rt.db.transaction() as session:
        record(
            session,
            at=rt.clock.now(),
            actor=admin.actor,
            action="portal_link.revoked",
            tenant_id=entry.tenant_id,
            integration_id=entry.integration_id,
            target_type="portal_link",
            target_id=link_id,
            details={},
        )
