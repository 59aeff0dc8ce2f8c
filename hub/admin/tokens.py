"""Admin tokens: created, looked up by keyed hash, and the bootstrap token."""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from hub.admin.auth import AdminPrincipal
from hub.admin.models import AdminToken
from hub.admin.schemas import TokenView
from hub.audit.bursts import note_auth_failure
from hub.audit.service import record
from hub.config import ConfigError
from hub.ids import new_id, random_token
from hub.runtime import Runtime
from hub.tenancy.models import Tenant
from hub.web.errors import ProblemError
from hub.web.metrics import AUTH_FAILURES

log = logging.getLogger("hub.admin")

TOKEN_PREFIX = "hadm_"
MIN_BOOTSTRAP_LENGTH = 32
MAX_TOKEN_LENGTH = 512


def token_view(token: AdminToken) -> TokenView:
    return TokenView(
        id=token.id,
        name=token.name,
        tenant_id=token.tenant_id,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
    )


async def create_token(
    rt: Runtime, actor: AdminPrincipal, *, name: str, tenant_id: str | None
) -> tuple[str, str]:
    """(token shown once, token id)."""
    if tenant_id is None:
        actor.require_platform("create platform tokens")
    else:
        actor.require_tenant(tenant_id)
    token = TOKEN_PREFIX + random_token(52)
    token_id = new_id("admin_token")
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        if tenant_id is not None and await session.get(Tenant, tenant_id) is None:
            raise ProblemError("NOT_FOUND", "no such tenant")
        session.add(
            AdminToken(
                id=token_id,
                token_hash=rt.hasher.hash(token),
                tenant_id=tenant_id,
                name=name,
                created_at=now,
            )
        )
        record(
            session,
            at=now,
            actor=actor.actor,
            action="admin_token.created",
            tenant_id=tenant_id,
            target_type="admin_token",
            target_id=token_id,
            details={"scope": "tenant" if tenant_id else "platform"},
        )
    return token, token_id


async def list_tokens(rt: Runtime, actor: AdminPrincipal) -> list[TokenView]:
    """Every token the actor may see (a tenant admin: its tenant's), oldest first."""
    async with rt.db.session() as session:
        stmt = select(AdminToken).order_by(AdminToken.id)
        if actor.tenant_id is not None:
            stmt = stmt.where(AdminToken.tenant_id == actor.tenant_id)
        return [token_view(t) for t in await session.scalars(stmt)]


async def revoke_token(rt: Runtime, actor: AdminPrincipal, token_id: str) -> TokenView:
    """Revoke at once (every API process reads tokens from the database); idempotent."""
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        token = await session.get(AdminToken, token_id)
        if token is None or (actor.tenant_id is not None and token.tenant_id != actor.tenant_id):
            raise ProblemError("NOT_FOUND", "no such admin token")
        if token.revoked_at is None:
            token.revoked_at = now
            record(
                session,
                at=now,
                actor=actor.actor,
                action="admin_token.revoked",
                tenant_id=token.tenant_id,
                target_type="admin_token",
                target_id=token.id,
            )
    return token_view(token)


async def ensure_bootstrap_token(rt: Runtime, token: str) -> None:
    """Create the platform token ``token`` unless it exists (revoked ones stay revoked).

    Every API and worker process calls this at start, possibly at the same moment on
    a fresh database: losing the insert race to another process is success.
    """
    if len(token) < MIN_BOOTSTRAP_LENGTH:
        raise ConfigError(
            f"HUB_BOOTSTRAP_ADMIN_TOKEN must be at least {MIN_BOOTSTRAP_LENGTH} characters"
        )
    digest = rt.hasher.hash(token)
    try:
        async with rt.db.transaction() as session:
            existing = await session.scalar(
                select(AdminToken.id).where(AdminToken.token_hash == digest)
            )
            if existing is not None:
                return
            token_id = new_id("admin_token")
            now = rt.clock.now()
            session.add(
                AdminToken(
                    id=token_id,
                    token_hash=digest,
                    tenant_id=None,
                    name="bootstrap",
                    created_at=now,
                )
            )
            record(
                session,
                at=now,
                actor="system",
                action="admin_token.created",
                target_type="admin_token",
                target_id=token_id,
                details={"scope": "platform", "bootstrap": True},
            )
    except IntegrityError:
        log.info("bootstrap admin token created by another process")


# One indexed read also for a tenant token: its tenant's status comes in the same row.
_TOKEN = (
    select(AdminToken.id, AdminToken.tenant_id, Tenant.status.label("tenant_status"))
    .outerjoin(Tenant, Tenant.id == AdminToken.tenant_id)
    .where(AdminToken.token_hash == bindparam("digest"), AdminToken.revoked_at.is_(None))
)


async def authenticate_admin(rt: Runtime, credential: str | None, source: str) -> AdminPrincipal:
    if not credential or len(credential) > MAX_TOKEN_LENGTH or not credential.isascii():
        AUTH_FAILURES.labels("admin", "UNAUTHENTICATED").inc()
        await note_auth_failure(rt, "admin", source)
        raise ProblemError(
            "UNAUTHENTICATED",
            "send an admin token as 'Authorization: Bearer ...'",
            headers={"WWW-Authenticate": 'Bearer realm="hub-admin"'},
        )
    digest = rt.hasher.hash(credential)
    async with rt.db.session() as session:
        token = (await session.execute(_TOKEN, {"digest": digest})).first()
    if token is None:
        AUTH_FAILURES.labels("admin", "UNAUTHENTICATED").inc()
        await note_auth_failure(rt, "admin", source)
        raise ProblemError(
            "UNAUTHENTICATED",
            "the admin token is not valid",
            headers={"WWW-Authenticate": 'Bearer realm="hub-admin"'},
        )
    # Like the keys of a disabled tenant's integrations: a valid credential of a
    # party that may not act now, so 403 on every call (reads too), not a failure.
    if token.tenant_id is not None and token.tenant_status != "active":
        raise ProblemError(
            "TENANT_DISABLED",
            "this admin token's tenant is disabled; a platform admin can enable it again",
        )
    return AdminPrincipal(actor=f"admin:{token.id}", tenant_id=token.tenant_id)
