"""Console and portal sessions: a random id in an HttpOnly cookie, the session in Redis
under the id's hash (a leaked Redis dump signs nobody in), expiring, revocable.

A session holds who acts (the admin token's principal, or a portal link's integration)
and its CSRF token, which every state-changing form carries back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from hub.admin.auth import AdminPrincipal
from hub.runtime import Runtime

ADMIN_TTL = timedelta(hours=8)
COOKIE = "hub_console"


class ConsoleSession(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["console", "portal"]
    actor: str  # the audit records' actor: "admin:adm_…", or "portal:<link id>"
    tenant_id: str | None  # None: a platform admin
    csrf: str
    expires_at: datetime
    integration_id: str | None = None  # a portal session's one integration
    link_id: str | None = None  # the portal link it came from (revoking it ends this)

    @property
    def admin(self) -> AdminPrincipal:
        """Who the services see acting: scoped to the tenant, as the admin API scopes."""
        return AdminPrincipal(actor=self.actor, tenant_id=self.tenant_id)

    def csrf_ok(self, given: str | None) -> bool:
        # As bytes: compare_digest refuses a str that is not ASCII (a hostile form's).
        return bool(given) and hmac.compare_digest(self.csrf.encode(), (given or "").encode())


def _key(rt: Runtime, session_id: str) -> str:
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    return rt.keys.custom("console-session", digest)


async def open_session(
    rt: Runtime,
    *,
    kind: Literal["console", "portal"],
    actor: str,
    tenant_id: str | None,
    ttl: timedelta,
    integration_id: str | None = None,
    link_id: str | None = None,
) -> tuple[str, ConsoleSession]:
    """A new session: its id (the cookie's value, shown to nobody else) and itself."""
    session_id = secrets.token_urlsafe(32)
    session = ConsoleSession(
        kind=kind,
        actor=actor,
        tenant_id=tenant_id,
        csrf=secrets.token_urlsafe(32),
        expires_at=rt.clock.now() + ttl,
        integration_id=integration_id,
        link_id=link_id,
    )
    seconds = max(1, int(ttl.total_seconds()))
    await rt.redis.set(_key(rt, session_id), msgspec.json.encode(session), ex=seconds)
    return session_id, session


async def session_of(rt: Runtime, session_id: str | None) -> ConsoleSession | None:
    """The live session of a cookie's value, or None (unknown, expired, malformed)."""
    if not session_id or len(session_id) > 100 or not session_id.isascii():
        return None
    raw = await rt.redis.get(_key(rt, session_id))
    if raw is None:
        return None
    try:
        session = msgspec.json.decode(raw, type=ConsoleSession)
    except msgspec.DecodeError:
        return None
    if session.expires_at <= rt.clock.now():
        return None
    return session


async def close_session(rt: Runtime, session_id: str | None) -> None:
    if session_id and len(session_id) <= 100 and session_id.isascii():
        await rt.redis.delete(_key(rt, session_id))
