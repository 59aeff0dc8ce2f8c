"""Tenants' connector configurations: the rules behind the admin API and CLI, and the
resolution of a stored configuration into the Struct a connector receives.

Every change is audited in the same transaction as the change itself; the audit
entry names the fields that changed, never their values.
"""

from __future__ import annotations

import logging
import time
import typing
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin.auth import AdminPrincipal
from hub.audit.service import record
from hub.connectors.models import TenantConnector
from hub.connectors.protocol import Connector, ConnectorRegistry
from hub.connectors.schemas import ConnectorPut, ConnectorType, ConnectorView
from hub.ids import new_id
from hub.runtime import Runtime
from hub.security.encryption import DecryptionError
from hub.tenancy.models import Tenant
from hub.web.decoding import collect_errors
from hub.web.errors import FieldError, ProblemError

log = logging.getLogger("hub.connectors")

_json = msgspec.json


def inbound_path(connector: Connector[Any], connector_id: str) -> str | None:
    return f"/v1/inbound/{connector.name}/{connector_id}" if connector.inbound else None


def connector_type(connector: Connector[Any]) -> ConnectorType:
    schema = msgspec.json.schema(connector.config_type)
    return ConnectorType(
        name=connector.name,
        kind=connector.kind,
        title=connector.title or connector.name,
        actions=sorted(connector.actions),
        inbound=connector.inbound,
        secret_fields=sorted(connector.secret_fields),
        config_schema=schema,
    )


def _known(registry: ConnectorRegistry, name: str) -> Connector[Any]:
    connector = registry.get(name)
    if connector is None:
        raise ProblemError(
            "NOT_FOUND", "no such connector; GET /admin/v1/connectors lists the ones this hub runs"
        )
    return connector


def view(connector: Connector[Any], row: TenantConnector, secrets: list[str]) -> ConnectorView:
    return ConnectorView(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        kind=connector.kind,
        enabled=row.enabled,
        config=dict(row.config),
        secrets_set=sorted(secrets),
        actions=sorted(connector.actions),
        inbound_path=inbound_path(connector, row.id),
        failing_reason=row.failing_reason,
        failing_since=row.failing_since,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _secret_names(rt: Runtime, row: TenantConnector) -> list[str]:
    try:
        return list(_secrets(rt, row))
    except DecryptionError:
        return []


def _secrets(rt: Runtime, row: TenantConnector) -> dict[str, Any]:
    if not row.secrets_encrypted:
        return {}
    decoded = _json.decode(rt.vault.decrypt(row.secrets_encrypted))
    return decoded if isinstance(decoded, dict) else {}


async def _tenant(session: AsyncSession, admin: AdminPrincipal, tenant_id: str) -> Tenant:
    admin.require_tenant(tenant_id)
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise ProblemError("NOT_FOUND", "no such tenant")
    return tenant


async def _row(session: AsyncSession, tenant_id: str, name: str) -> TenantConnector | None:
    stmt = select(TenantConnector).where(
        TenantConnector.tenant_id == tenant_id, TenantConnector.name == name
    )
    return (await session.scalars(stmt)).first()


def _member(config_type: Any, given: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The Struct of a tagged union that ``given`` names, with ``given`` without its tag
    (so every field error of that one is listed); else ``config_type`` and ``given``."""
    for member in typing.get_args(config_type):
        struct_config = getattr(member, "__struct_config__", None)
        if struct_config is not None and given.get(struct_config.tag_field) == struct_config.tag:
            return member, {k: v for k, v in given.items() if k != struct_config.tag_field}
    return config_type, given


def _checked_config(
    connector: Connector[Any], given: dict[str, Any], stored_secrets: dict[str, Any]
) -> tuple[msgspec.Struct, dict[str, Any], dict[str, Any]]:
    """The configuration as the connector's Struct, split into (public, secret) fields."""
    merged = {**{k: v for k, v in stored_secrets.items() if k not in given}, **given}
    try:
        config = msgspec.convert(merged, connector.config_type)
    except msgspec.ValidationError:
        errors = [
            FieldError(path="$.config" + e.path.removeprefix("$"), message=e.message)
            for e in collect_errors(*reversed(_member(connector.config_type, merged)))
        ] or [FieldError(path="$.config", message="invalid configuration")]
        raise ProblemError(
            "VALIDATION_FAILED", "the configuration does not match the connector's", errors=errors
        ) from None
    public: dict[str, Any] = msgspec.to_builtins(config)
    secrets = {k: public.pop(k) for k in connector.secret_fields if k in public}
    secrets = {k: v for k, v in secrets.items() if v is not None}
    return config, public, secrets


async def put_connector(
    rt: Runtime,
    registry: ConnectorRegistry,
    admin: AdminPrincipal,
    tenant_id: str,
    name: str,
    body: ConnectorPut,
) -> tuple[ConnectorView, bool]:
    """Create or replace the tenant's configuration; returns (view, created)."""
    admin.require_tenant(tenant_id)  # another tenant's is 404 before any 422
    connector = _known(registry, name)
    now = rt.clock.now()
    async with rt.db.session() as session:
        await _tenant(session, admin, tenant_id)
        existing = await _row(session, tenant_id, name)
        stored = _secrets(rt, existing) if existing is not None else {}
    config, public, secrets = _checked_config(connector, body.config, stored)
    await connector.validate(rt, config)
    encrypted = rt.vault.encrypt(_json.encode(secrets).decode()) if secrets else None
    try:
        async with rt.db.transaction() as session:
            row = await _row(session, tenant_id, name)
            created = row is None
            if row is None:
                row = TenantConnector(
                    id=new_id("connector"), tenant_id=tenant_id, name=name, created_at=now
                )
                session.add(row)
                changed = sorted({*public, *secrets, "enabled"})
            else:
                changed = sorted(
                    {k for k in {*public, *row.config} if public.get(k) != row.config.get(k)}
                    | ({*secrets} if secrets != stored else set())
                    | ({"enabled"} if row.enabled != body.enabled else set())
                )
            row.config = public
            row.secrets_encrypted = encrypted
            row.enabled = body.enabled
            # Saving the configuration is the admin's answer to a failing connector.
            row.failing_reason = None
            row.failing_since = None
            row.updated_at = now
            record(
                session,
                at=now,
                actor=admin.actor,
                action="connector.created" if created else "connector.updated",
                tenant_id=tenant_id,
                target_type="connector",
                target_id=row.id,
                details={"connector": name, "fields": changed},
            )
    except IntegrityError:
        # Two admins created it at once: the other one's configuration stands.
        raise ProblemError(
            "CONFLICT", "the connector was configured concurrently; read it and retry"
        ) from None
    registry.forget(row.id)
    return view(connector, row, list(secrets)), created


async def get_connector(
    rt: Runtime, registry: ConnectorRegistry, admin: AdminPrincipal, tenant_id: str, name: str
) -> ConnectorView:
    admin.require_tenant(tenant_id)
    connector = _known(registry, name)
    async with rt.db.session() as session:
        await _tenant(session, admin, tenant_id)
        row = await _row(session, tenant_id, name)
    if row is None:
        raise ProblemError("NOT_FOUND", f"the tenant has not configured {name}")
    return view(connector, row, _secret_names(rt, row))


async def list_connectors(
    rt: Runtime, registry: ConnectorRegistry, admin: AdminPrincipal, tenant_id: str
) -> list[ConnectorView]:
    admin.require_tenant(tenant_id)
    async with rt.db.session() as session:
        await _tenant(session, admin, tenant_id)
        rows = list(
            await session.scalars(
                select(TenantConnector)
                .where(TenantConnector.tenant_id == tenant_id)
                .order_by(TenantConnector.name)
            )
        )
    views = []
    for row in rows:
        connector = registry.get(row.name)
        if connector is not None:  # a connector this build no longer runs stays stored
            views.append(view(connector, row, _secret_names(rt, row)))
    return views


async def delete_connector(
    rt: Runtime, registry: ConnectorRegistry, admin: AdminPrincipal, tenant_id: str, name: str
) -> None:
    admin.require_tenant(tenant_id)
    _known(registry, name)
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        await _tenant(session, admin, tenant_id)
        row = await _row(session, tenant_id, name)
        if row is None:
            raise ProblemError("NOT_FOUND", f"the tenant has not configured {name}")
        await session.delete(row)
        record(
            session,
            at=now,
            actor=admin.actor,
            action="connector.deleted",
            tenant_id=tenant_id,
            target_type="connector",
            target_id=row.id,
            details={"connector": name},
        )
    registry.forget(row.id)


# -- resolution: stored row -> the Struct a connector receives ----------------------------


@dataclass(frozen=True, slots=True)
class Configured:
    """A connector with one tenant's resolved configuration."""

    connector: Connector[Any]
    config: Any  # an instance of ``connector.config_type``
    row_id: str
    tenant_id: str
    failing_reason: str | None = None  # the circuit is open (hub/connectors/health.py)


def resolve(rt: Runtime, connector: Connector[Any], row: TenantConnector) -> Configured | None:
    """The row's configuration as the connector's Struct; None (logged) when it no
    longer decrypts or fits (an admin saves it again)."""
    try:
        merged = {**row.config, **_secrets(rt, row)}
        config = msgspec.convert(merged, connector.config_type)
    except (DecryptionError, msgspec.MsgspecError, ValueError):
        log.error(
            "a tenant connector's configuration is unusable",
            extra={"tenant_id": row.tenant_id, "connector": row.name},
        )
        return None
    return Configured(connector, config, row.id, row.tenant_id, row.failing_reason)


async def configured_for_action(
    rt: Runtime, registry: ConnectorRegistry, tenant_id: str, action: str
) -> Configured | None:
    """The tenant's enabled connector that carries out ``action`` (the oldest
    configured wins when several could), or None."""
    names = [c.name for c in registry if c.handles(action)]
    if not names:
        return None
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(TenantConnector)
            .where(
                TenantConnector.tenant_id == tenant_id,
                TenantConnector.enabled.is_(True),
                TenantConnector.name.in_(names),
            )
            .order_by(TenantConnector.created_at, TenantConnector.id)
        )
        for row in rows:
            connector = registry.get(row.name)
            if connector is not None:
                configured = resolve(rt, connector, row)
                if configured is not None:
                    return configured
    return None


async def configured_by_name(
    rt: Runtime, registry: ConnectorRegistry, tenant_id: str, name: str
) -> Configured | None:
    """The tenant's enabled configuration of connector ``name``, or None."""
    connector = registry.get(name)
    if connector is None:
        return None
    async with rt.db.session() as session:
        row = await _row(session, tenant_id, name)
    if row is None or not row.enabled:
        return None
    return resolve(rt, connector, row)


# How long an inbound URL's resolution is reused: a provider's burst of webhooks costs
# one lookup and one decryption, and a change made through another process is seen
# within this (one made through this hub at once).
RESOLVED_SECONDS = 5.0
RESOLVED_MAX = 10_000


async def configured_by_id(
    rt: Runtime, registry: ConnectorRegistry, name: str, connector_id: str
) -> Configured | None:
    """An inbound URL's connector: enabled, of an active tenant, of that name."""
    key = (name, connector_id)
    cached = registry.resolved.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < RESOLVED_SECONDS:
        found: Configured | None = cached[1]
        return found
    configured = await _configured_by_id(rt, registry, name, connector_id)
    if len(registry.resolved) >= RESOLVED_MAX:
        registry.resolved.clear()  # unknown ids probed at random must not grow it
    registry.resolved[key] = (now, configured)
    return configured


async def _configured_by_id(
    rt: Runtime, registry: ConnectorRegistry, name: str, connector_id: str
) -> Configured | None:
    connector = registry.get(name)
    if connector is None or not connector.inbound:
        return None
    async with rt.db.session() as session:
        row = await session.get(TenantConnector, connector_id)
        if row is None or row.name != name or not row.enabled:
            return None
        tenant = await session.get(Tenant, row.tenant_id)
        if tenant is None or tenant.status != "active":
            return None
    return resolve(rt, connector, row)
