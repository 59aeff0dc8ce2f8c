"""``hub admin``: the admin API's operations from the command line (acting as "cli")."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from hub.admin.auth import CLI_ADMIN
from hub.admin.tokens import create_token
from hub.config import load_settings
from hub.runtime import Runtime, build_runtime
from hub.security.encryption import generate_key
from hub.security.rotation import reencrypt_all
from hub.tenancy import service
from hub.tenancy.schemas import (
    IntegrationCreate,
    IntegrationPatch,
    RevokeRequest,
    RotateRequest,
    TenantCreate,
)
from hub.web.errors import ProblemError


def _print(obj: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(obj)).decode() + "\n")


def _with_runtime(work: Callable[[Runtime, argparse.Namespace], Awaitable[Any]]) -> Any:
    def run(args: argparse.Namespace) -> int:
        async def go() -> Any:
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


def register(sub: Any) -> None:
    admin = sub.add_parser("admin", help="tenants, integrations, keys, admin tokens")
    cmds = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")

    p = cmds.add_parser("create-tenant", help="create a tenant")
    p.add_argument("name")
    p.set_defaults(
        func=_with_runtime(
            lambda rt, a: service.create_tenant(rt, CLI_ADMIN, TenantCreate(name=a.name))
        )
    )

    p = cmds.add_parser("list-tenants", help="list tenants")
    p.set_defaults(func=_with_runtime(lambda rt, a: service.list_tenants(rt, CLI_ADMIN)))

    p = cmds.add_parser(
        "create-integration", help="create an integration; prints its first API key once"
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
    p.set_defaults(
        func=_with_runtime(
            lambda rt, a: service.create_integration(
                rt,
                CLI_ADMIN,
                a.tenant,
                IntegrationCreate(name=a.name, kind=a.kind, mode=a.mode, scopes=a.scope),
            )
        )
    )

    p = cmds.add_parser("list-integrations", help="list a tenant's integrations")
    p.add_argument("--tenant", required=True)
    p.set_defaults(
        func=_with_runtime(lambda rt, a: service.list_integrations(rt, CLI_ADMIN, a.tenant))
    )

    p = cmds.add_parser("disable-integration", help="disable an integration")
    p.add_argument("integration")
    p.set_defaults(
        func=_with_runtime(
            lambda rt, a: service.patch_integration(
                rt, CLI_ADMIN, a.integration, IntegrationPatch(status="disabled")
            )
        )
    )

    p = cmds.add_parser("rotate-key", help="issue a new API key; the old one lives on for --grace")
    p.add_argument("integration")
    p.add_argument("--grace", type=int, default=24 * 3600, help="seconds (0 to 604800)")
    p.set_defaults(
        func=_with_runtime(
            lambda rt, a: service.rotate_key(
                rt,
                CLI_ADMIN,
                a.integration,
                msgspec.convert({"grace_seconds": a.grace}, RotateRequest),
            )
        )
    )

    p = cmds.add_parser("revoke-key", help="revoke one key (--key-id) or all keys at once")
    p.add_argument("integration")
    p.add_argument("--key-id")
    p.set_defaults(
        func=_with_runtime(
            lambda rt, a: service.revoke_keys(
                rt, CLI_ADMIN, a.integration, RevokeRequest(key_id=a.key_id)
            )
        )
    )

    p = cmds.add_parser("create-token", help="create an admin token (platform, or --tenant)")
    p.add_argument("--tenant", help="scope the token to this tenant id")
    p.add_argument("--name", default="cli")

    async def _create_token(rt: Runtime, a: argparse.Namespace) -> dict[str, Any]:
        token, token_id = await create_token(rt, CLI_ADMIN, name=a.name, tenant_id=a.tenant)
        return {"id": token_id, "token": token, "tenant_id": a.tenant}

    p.set_defaults(func=_with_runtime(_create_token))

    p = cmds.add_parser(
        "rotate-encryption-key",
        help="re-encrypt every stored secret under the first key of HUB_SECRET_KEYS",
    )

    async def _rotate(rt: Runtime, a: argparse.Namespace) -> dict[str, int]:
        return await reencrypt_all(rt)

    p.set_defaults(func=_with_runtime(_rotate))

    p = cmds.add_parser("generate-secret-key", help="print a new key for HUB_SECRET_KEYS")

    def _generate(_args: argparse.Namespace) -> int:
        print(generate_key())
        return 0

    p.set_defaults(func=_generate)
