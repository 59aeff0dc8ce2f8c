"""``hub admin``: the admin API's operations from the command line (acting as "cli").

Every command goes through the same services (and wire-type validation) as the
HTTP API, prints JSON on stdout, and reports problems on stderr with exit code 1.
Secrets are read from stdin, never from arguments (shell history, ``ps``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec

from hub.admin.auth import CLI_ADMIN
from hub.admin.key_rotation import reencrypt_all
from hub.admin.portal_links import DEFAULT_TTL_SECONDS, PortalLinkCreate, create_link, revoke_link
from hub.admin.tokens import create_token, list_tokens, revoke_token
from hub.app import default_connectors
from hub.audit.schemas import AuditFilters
from hub.audit.service import list_entries
from hub.config import load_settings
from hub.connectors import service as connectors
from hub.connectors.protocol import ConnectorRegistry
from hub.connectors.schemas import ConnectorPut
from hub.ids import new_ulid
from hub.runtime import Runtime, build_runtime
from hub.security.encryption import generate_key
from hub.tenancy import service
from hub.tenancy.schemas import (
    IntegrationCreate,
    IntegrationPatch,
    RevokeRequest,
    RotateRequest,
    TenantCreate,
    TenantPatch,
)
from hub.web.context import request_id_var
from hub.web.decoding import convert, parse_json
from hub.web.errors import ProblemError

Work = Callable[[Runtime, argparse.Namespace], Awaitable[Any]]


def _print(obj: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(obj)).decode() + "\n")


def _given(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The options the operator actually passed (absent ones stay unchanged in a patch)."""
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _with_runtime(work: Work) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        async def go() -> Any:
            # One correlation id per invocation ties its audit entries together.
            request_id_var.set(f"cli_{new_ulid()}")
            rt = await build_runtime(load_settings())
            try:
                return await work(rt, args)
            finally:
                await rt.close()

        try:
            result = asyncio.run(go())
        except ProblemError as exc:
            print(f"hub admin: {exc.code}: {exc.detail}", file=sys.stderr)
            for err in exc.errors:
                print(f"  {err.path}: {err.message}", file=sys.stderr)
            return 1
        if result is not None:
            _print(result)
        return 0

    return run


def _command(cmds: Any, name: str, help_: str, work: Work) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = cmds.add_parser(name, help=help_, description=help_)
    parser.set_defaults(func=_with_runtime(work))
    return parser


def _tenant_commands(cmds: Any) -> None:
    p = _command(
        cmds,
        "create-tenant",
        "create a tenant",
        lambda rt, a: service.create_tenant(rt, CLI_ADMIN, convert({"name": a.name}, TenantCreate)),
    )
    p.add_argument("name")

    _command(
        cmds, "list-tenants", "list tenants", lambda rt, a: service.list_tenants(rt, CLI_ADMIN)
    )

    p = _command(
        cmds, "get-tenant", "show a tenant", lambda rt, a: service.get_tenant(rt, CLI_ADMIN, a.id)
    )
    p.add_argument("id")

    async def update(rt: Runtime, a: argparse.Namespace) -> Any:
        fields = _given(a, "name", "status", "upstream_url")
        if a.clear_upstream:
            fields.update(upstream_url=None, upstream_secret=None)
        if a.upstream_secret_stdin:
            fields["upstream_secret"] = sys.stdin.readline().strip()
        return await service.patch_tenant(rt, CLI_ADMIN, a.id, convert(fields, TenantPatch))

    p = _command(cmds, "update-tenant", "change a tenant's name, status or upstream", update)
    p.add_argument("id")
    p.add_argument("--name")
    p.add_argument("--status", choices=["active", "disabled"])
    p.add_argument("--upstream-url", help="the tenant's product API the upstream handler calls")
    p.add_argument(
        "--upstream-secret-stdin",
        action="store_true",
        help="read the upstream signing secret from the first line of stdin",
    )
    p.add_argument("--clear-upstream", action="store_true", help="remove upstream URL and secret")


def _integration_commands(cmds: Any) -> None:
    def create(rt: Runtime, a: argparse.Namespace) -> Awaitable[Any]:
        body = convert(
            {"name": a.name, "kind": a.kind, "mode": a.mode, "scopes": a.scope}, IntegrationCreate
        )
        return service.create_integration(rt, CLI_ADMIN, a.tenant, body)

    p = _command(
        cmds, "create-integration", "create an integration; prints its first API key once", create
    )
    p.add_argument("--tenant", required=True, help="tenant id")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", required=True, choices=["zapier", "make", "partner", "source"])
    p.add_argument("--mode", default="live", choices=["live", "sandbox"])
    p.add_argument(
        "--scope",
        action="append",
        default=[],
        help="repeat: actions:*, actions:<name>, triggers:*, triggers:<type>, events:publish",
    )

    p = _command(
        cmds,
        "list-integrations",
        "list a tenant's integrations and their keys",
        lambda rt, a: service.list_integrations(rt, CLI_ADMIN, a.tenant),
    )
    p.add_argument("--tenant", required=True)

    p = _command(
        cmds,
        "get-integration",
        "show an integration and its keys",
        lambda rt, a: service.get_integration(rt, CLI_ADMIN, a.id),
    )
    p.add_argument("id")

    def update(rt: Runtime, a: argparse.Namespace) -> Awaitable[Any]:
        fields = _given(a, "name", "status")
        if a.scope is not None:
            fields["scopes"] = a.scope
        return service.patch_integration(rt, CLI_ADMIN, a.id, convert(fields, IntegrationPatch))

    p = _command(cmds, "update-integration", "change an integration's name, scopes, status", update)
    p.add_argument("id")
    p.add_argument("--name")
    p.add_argument("--status", choices=["active", "disabled"])
    p.add_argument("--scope", action="append", help="repeat; replaces every scope")

    for status, verb in (("disabled", "disable"), ("active", "enable")):
        p = _command(
            cmds,
            f"{verb}-integration",
            f"{verb} an integration",
            lambda rt, a, s=status: service.patch_integration(  # type: ignore[misc]
                rt, CLI_ADMIN, a.id, IntegrationPatch(status=s)
            ),
        )
        p.add_argument("id")


def _key_commands(cmds: Any) -> None:
    p = _command(
        cmds,
        "rotate-key",
        "issue a new API key; the previous keys stay valid for --grace seconds",
        lambda rt, a: service.rotate_key(
            rt, CLI_ADMIN, a.integration, convert({"grace_seconds": a.grace}, RotateRequest)
        ),
    )
    p.add_argument("integration")
    p.add_argument("--grace", type=int, default=24 * 3600, help="seconds, 0 to 604800 (24 h)")

    p = _command(
        cmds,
        "revoke-key",
        "revoke one key (--key-id) or every key of the integration, at once",
        lambda rt, a: service.revoke_keys(
            rt, CLI_ADMIN, a.integration, convert(_given(a, "key_id"), RevokeRequest)
        ),
    )
    p.add_argument("integration")
    p.add_argument("--key-id")

    async def token(rt: Runtime, a: argparse.Namespace) -> dict[str, Any]:
        value, token_id = await create_token(rt, CLI_ADMIN, name=a.name, tenant_id=a.tenant)
        return {"id": token_id, "token": value, "tenant_id": a.tenant}

    p = _command(cmds, "create-token", "create an admin token (platform, or --tenant)", token)
    p.add_argument("--tenant", help="scope the token to this tenant id")
    p.add_argument("--name", default="cli")

    _command(
        cmds,
        "list-tokens",
        "list admin tokens (never their values)",
        lambda rt, a: list_tokens(rt, CLI_ADMIN),
    )

    p = _command(
        cmds,
        "revoke-token",
        "revoke an admin token at once",
        lambda rt, a: revoke_token(rt, CLI_ADMIN, a.id),
    )
    p.add_argument("id", help="the token id (adm_...)")


def _portal_commands(cmds: Any) -> None:
    p = _command(
        cmds,
        "portal-link",
        "print a signed link that opens one integration's portal (shown once)",
        lambda rt, a: create_link(
            rt, CLI_ADMIN, a.integration, convert({"ttl_seconds": a.ttl}, PortalLinkCreate)
        ),
    )
    p.add_argument("integration")
    p.add_argument(
        "--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="seconds, 60 to 604800 (1 h)"
    )

    async def revoke(rt: Runtime, a: argparse.Namespace) -> dict[str, Any]:
        await revoke_link(rt, CLI_ADMIN, a.link_id)
        return {"revoked": a.link_id}

    p = _command(cmds, "revoke-portal-link", "revoke a portal link and its sessions", revoke)
    p.add_argument("link_id", help="the link id (pl_...)")


def _audit_command(cmds: Any) -> None:
    async def audit(rt: Runtime, a: argparse.Namespace) -> Any:
        filters = AuditFilters(
            tenant_id=a.tenant,
            integration_id=a.integration,
            correlation_id=a.correlation_id,
            action=a.action,
            actor=a.actor,
            target_id=a.target,
            since=a.since,
            until=a.until,
            limit=a.limit,
        )
        items, _ = await list_entries(rt, CLI_ADMIN, filters)
        return items

    p = _command(cmds, "audit", "show audit entries, newest first", audit)
    p.add_argument("--tenant")
    p.add_argument("--integration")
    p.add_argument("--correlation-id")
    p.add_argument("--action", help="e.g. key.rotated")
    p.add_argument("--actor", help="e.g. admin:adm_..., cli, portal:pl_...")
    p.add_argument("--target", help="the id of the object acted on")
    p.add_argument("--since", type=datetime.fromisoformat, help="ISO 8601 with offset")
    p.add_argument("--until", type=datetime.fromisoformat, help="ISO 8601 with offset")
    p.add_argument("--limit", type=int, default=100)


def _secret_commands(cmds: Any) -> None:
    _command(
        cmds,
        "rotate-encryption-key",
        "re-encrypt every stored secret under the first key of HUB_SECRET_KEYS; "
        "afterwards the other keys can be removed",
        lambda rt, a: reencrypt_all(rt),
    )

    def generate(_args: argparse.Namespace) -> int:
        print(generate_key())
        return 0

    p = cmds.add_parser("generate-secret-key", help="print a new key for HUB_SECRET_KEYS")
    p.set_defaults(func=generate)


def _connector_commands(cmds: Any) -> None:
    group = cmds.add_parser(
        "connector",
        help="tenants' connectors (WhatsApp and e-mail providers...)",
        description="Configure a tenant's connectors. Configurations are read as JSON "
        "from stdin (they hold secrets); secrets are never printed.",
    )
    sub = group.add_subparsers(dest="connector_command", required=True, metavar="ACTION")

    def registry() -> ConnectorRegistry:
        return ConnectorRegistry.of(default_connectors())

    async def types(rt: Runtime, a: argparse.Namespace) -> Any:
        return [connectors.connector_type(c) for c in registry()]

    _command(
        sub, "types", "list the connectors this hub runs, with their configuration schema", types
    )
    p = _command(
        sub,
        "list",
        "list a tenant's connectors",
        lambda rt, a: connectors.list_connectors(rt, registry(), CLI_ADMIN, a.tenant),
    )
    p.add_argument("tenant")
    p = _command(
        sub,
        "get",
        "show a tenant's connector (secrets by name only)",
        lambda rt, a: connectors.get_connector(rt, registry(), CLI_ADMIN, a.tenant, a.name),
    )
    p.add_argument("tenant")
    p.add_argument("name")

    async def put(rt: Runtime, a: argparse.Namespace) -> Any:
        config = parse_json(sys.stdin.buffer.read() or b"{}")
        body = convert({"config": config, "enabled": not a.disabled}, ConnectorPut)
        view, _ = await connectors.put_connector(rt, registry(), CLI_ADMIN, a.tenant, a.name, body)
        return view

    p = _command(
        sub,
        "set",
        "configure a tenant's connector from the JSON object on stdin (secret fields "
        "left out keep their stored value)",
        put,
    )
    p.add_argument("tenant")
    p.add_argument("name")
    p.add_argument("--disabled", action="store_true", help="store it, but do not use it")
    p = _command(
        sub,
        "delete",
        "remove a tenant's connector and its secrets",
        lambda rt, a: connectors.delete_connector(rt, registry(), CLI_ADMIN, a.tenant, a.name),
    )
    p.add_argument("tenant")
    p.add_argument("name")


def register(sub: Any) -> None:
    admin = sub.add_parser(
        "admin",
        help="tenants, integrations, keys, admin tokens, audit, encryption keys, connectors",
        description="Administer the hub directly against its database (HUB_DATABASE_URL). "
        "Output is JSON; API keys and tokens are shown once.",
    )
    cmds = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    _tenant_commands(cmds)
    _integration_commands(cmds)
    _key_commands(cmds)
    _portal_commands(cmds)
    _audit_command(cmds)
    _secret_commands(cmds)
    _connector_commands(cmds)
