"""The command line as an operator runs it: ``python -m hub ...`` in its own process."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from hub.admin.key_rotation import reencrypt_all
from hub.app import build_hub, create_app
from hub.clock import FrozenClock
from hub.config import Settings
from hub.runtime import Runtime, build_runtime
from hub.security.encryption import DecryptionError, generate_key
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin, problem
from tests.support.databases import create_postgres_database, drop_postgres_database
from tests.support.databases import test_database_url as configured_database_url
from tests.support.processes import (
    free_port,
    hub_env,
    run_hub,
    serving,
    start_then_terminate,
)


async def admin_cli(env: dict[str, str], *args: str) -> Any:
    r = await run_hub("admin", *args, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


async def test_admin_commands_provision_tenants_integrations_keys_and_tokens(
    rt: Runtime, client: httpx.AsyncClient, settings: Settings, clock: FrozenClock
) -> None:
    env = hub_env(settings)
    tenant = await admin_cli(env, "create-tenant", "Acme")
    assert tenant["name"] == "Acme"
    # Independent commands run side by side (each is a whole process start).
    integration, other, platform, scoped = await asyncio.gather(
        admin_cli(
            env,
            "create-integration",
            "--tenant", tenant["id"],
            "--name", "zap",
            "--kind", "zapier",
            "--scope", "actions:*",
            "--scope", "triggers:*",
        ),
        admin_cli(env, "create-tenant", "Other"),
        admin_cli(env, "create-token", "--name", "ops"),
        admin_cli(env, "create-token", "--tenant", tenant["id"]),
    )  # fmt: skip
    key = integration["api_key"]
    me = await client.get("/v1/me", headers=bearer(key))
    assert me.json()["scopes"] == ["actions:*", "triggers:*"]

    assert platform["tenant_id"] is None
    assert scoped["tenant_id"] == tenant["id"]
    seen_by_platform = await client.get("/admin/v1/tenants", headers=bearer(platform["token"]))
    assert {t["id"] for t in seen_by_platform.json()["items"]} == {tenant["id"], other["id"]}
    seen_by_tenant = await client.get("/admin/v1/tenants", headers=bearer(scoped["token"]))
    assert [t["id"] for t in seen_by_tenant.json()["items"]] == [tenant["id"]]

    rotated = await admin_cli(env, "rotate-key", integration["id"], "--grace", "0")
    clock.set(datetime.now(UTC))  # the CLI ran on the wall clock
    problem(await client.get("/v1/me", headers=bearer(key)), 401, "KEY_EXPIRED")
    assert (await client.get("/v1/me", headers=bearer(rotated["api_key"]))).status_code == 200

    revoked = await admin_cli(env, "revoke-key", integration["id"], "--key-id", rotated["key_id"])
    assert revoked == {"revoked": [rotated["key_id"]]}
    problem(await client.get("/v1/me", headers=bearer(rotated["api_key"])), 401, "KEY_REVOKED")

    listed = await admin_cli(env, "list-integrations", "--tenant", tenant["id"])
    assert [k["status"] for k in listed[0]["keys"]] == ["expired", "revoked"]

    admin = Admin(client, platform["token"])
    audit = (await admin.get("/audit", params={"tenant_id": tenant["id"]})).json()["items"]
    assert {e["actor"] for e in audit} == {"cli"}
    # One correlation id per command run ties its entries together.
    assert all(e["correlation_id"].startswith("cli_") for e in audit)


async def test_portal_link_from_the_cli_opens_the_portal_until_revoked(
    client: httpx.AsyncClient, clock: FrozenClock, settings: Settings
) -> None:
    """The link lives in the database, so a server process honours what the CLI issued
    and revoked (with ``hub dev``'s in-process Redis too)."""
    env = hub_env(settings)
    tenant = await admin_cli(env, "create-tenant", "Acme")
    integration = await admin_cli(
        env, "create-integration", "--tenant", tenant["id"], "--name", "zap", "--kind", "zapier"
    )
    link = await admin_cli(env, "portal-link", integration["id"], "--ttl", "600")
    assert link["integration_id"] == integration["id"]
    assert link["link_id"].startswith("pl_")
    clock.set(datetime.now(UTC))  # the CLI ran on the wall clock
    enter = httpx.URL(link["url"])
    assert enter.path == "/portal/enter"

    opened = await client.get(enter.path, params=enter.params)
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == "/portal/"
    client.cookies.update(opened.cookies)  # the browser keeps the session cookie
    portal = await client.get("/portal/")
    assert portal.status_code == 200
    assert "zap" in portal.text

    assert await admin_cli(env, "revoke-portal-link", link["link_id"]) == {
        "revoked": link["link_id"]
    }
    assert (await client.get(enter.path, params=enter.params)).status_code == 404
    after = await client.get("/portal/")
    assert after.status_code == 303  # the session it opened ended with it
    assert after.headers["location"] == "/portal/expired"
    clock.advance(601)
    tampered = str(enter.params["token"])[:-2] + "AA"
    assert (await client.get(enter.path, params={"token": tampered})).status_code == 404


async def test_admin_commands_report_problems_without_a_traceback(
    rt: Runtime, settings: Settings
) -> None:
    env = hub_env(settings)
    cases = [
        (["create-integration", "--tenant", "ten_nope", "--name", "z", "--kind", "zapier"],
         "NOT_FOUND"),
        (["rotate-key", "int_nope", "--grace", "604801"], "$.grace_seconds"),
        (["create-tenant", "   "], "$.name"),
        (["portal-link", "int_nope"], "NOT_FOUND"),
        (["portal-link", "int_nope", "--ttl", "59"], "$.ttl_seconds"),
        (["revoke-portal-link", "pl_nope"], "NOT_FOUND"),
    ]  # fmt: skip
    results = await asyncio.gather(*(run_hub("admin", *args, env=env) for args, _ in cases))
    for (args, message), r in zip(cases, results, strict=True):
        assert r.returncode == 1, args
        assert message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr


async def test_connector_commands_go_through_the_connectors_service(
    rt: Runtime, settings: Settings, factory: Factory
) -> None:
    env = hub_env(settings)
    tenant = await factory.tenant()
    types = await admin_cli(env, "connector", "types")
    assert [t["name"] for t in types] == ["whatsapp", "email"]
    assert await admin_cli(env, "connector", "list", tenant["id"]) == []
    # The configuration comes on stdin (it holds secrets); they are never printed.
    config = {
        "provider": "evolution",
        "base_url": "http://127.0.0.1:9",
        "instance": "vendas",
        "api_key": "s3cret-api-key",
        "inbound_secret": "s3cret-inbound-0123456789abcdef0123",
    }
    r = await run_hub(
        "admin", "connector", "set", tenant["id"], "whatsapp", env=env,
        stdin=json.dumps(config).encode(),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    view = json.loads(r.stdout)
    assert view["secrets_set"] == ["api_key", "inbound_secret"]
    assert "s3cret" not in r.stdout
    shown = await admin_cli(env, "connector", "get", tenant["id"], "whatsapp")
    assert shown["config"]["instance"] == "vendas"
    cases = [
        (["connector", "set", tenant["id"], "nope"], b'{"token": "s3cret"}', "NOT_FOUND"),
        (["connector", "list", "ten_nope"], b"", "no such tenant"),
        (["connector", "set", tenant["id"], "whatsapp"], b"{not json", "MALFORMED_JSON"),
        (
            ["connector", "set", tenant["id"], "whatsapp"],
            b'{"provider": "meta", "access_token": "s3cret"}',
            "$.config.phone_number_id",
        ),
    ]
    for args, stdin, message in cases:
        r = await run_hub("admin", *args, env=env, stdin=stdin)
        assert r.returncode == 1, (args, r.stdout)
        assert message in r.stderr, (args, r.stderr)
        assert "s3cret" not in r.stderr
        assert "Traceback" not in r.stderr
    r = await run_hub("admin", "connector", "delete", tenant["id"], "whatsapp", env=env)
    assert r.returncode == 0, r.stderr
    assert await admin_cli(env, "connector", "list", tenant["id"]) == []


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[str]:
    """A database of the suite's kind with no schema at all."""
    base = configured_database_url()
    if base and base.startswith("postgres"):
        url = await create_postgres_database(base)
        yield url
        await drop_postgres_database(base, url)
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"


async def test_serve_and_worker_refuse_an_unmigrated_database_until_migrate(
    settings: Settings, empty_database: str, tmp_path: Path
) -> None:
    env = hub_env(settings, HUB_DATABASE_URL=empty_database)
    unreachable = {**env, "HUB_DATABASE_URL": "postgresql://root@127.0.0.1:1/hub"}
    *refusals, down = await asyncio.gather(
        run_hub("serve", "--port", str(free_port()), env=env),
        run_hub("worker", env=env),
        run_hub("migrate", env=unreachable),
    )
    for r in refusals:
        assert r.returncode == 2, r.stderr
        assert "hub migrate" in r.stderr
        assert "Traceback" not in r.stderr
    assert down.returncode == 2
    assert down.stderr.startswith("hub: cannot reach"), down.stderr

    r = await run_hub("migrate", env=env)
    assert r.returncode == 0, r.stderr

    async def worker_starts_and_stops_cleanly() -> None:
        log = tmp_path / "worker.log"
        code = await start_then_terminate(
            [sys.executable, "-m", "hub", "worker"],
            env={**env, "HUB_LOG_LEVEL": "INFO"},
            log=log,
            ready_marker="worker started",
        )
        assert code == 0, log.read_text()

    async def server_serves_on_granian() -> None:
        port = free_port()
        argv = [sys.executable, "-m", "hub", "serve", "--host", "127.0.0.1", "--port", str(port)]
        async with (
            serving(argv, env=env, port=port, log=tmp_path / "serve.log") as base,
            httpx.AsyncClient(base_url=base) as c,
        ):
            assert (await c.get("/readyz")).status_code == 200
            token = settings.bootstrap_admin_token or ""
            assert (await c.get("/admin/v1/tenants", headers=bearer(token))).status_code == 200

    async def migrate_is_idempotent() -> None:
        again = await run_hub("migrate", env=env)
        assert again.returncode == 0, again.stderr

    await asyncio.gather(
        worker_starts_and_stops_cleanly(), server_serves_on_granian(), migrate_is_idempotent()
    )


async def test_rotate_encryption_key_lets_the_old_key_go(
    rt: Runtime, factory: Factory, admin: Admin, settings: Settings
) -> None:
    tenant = await factory.tenant()
    await admin.patch(f"/tenants/{tenant['id']}", {"upstream_secret": "u" * 24})
    integration = await factory.integration(tenant["id"])
    old_key = settings.secret_keys[0]
    new_key = generate_key()

    r = await run_hub(
        "admin",
        "rotate-encryption-key",
        env=hub_env(settings, HUB_SECRET_KEYS=f"{new_key},{old_key}"),
    )
    try:
        assert r.returncode == 0, r.stderr
        counts = json.loads(r.stdout)
        assert counts["hub_secrets.value_encrypted"] >= 1
        assert counts["tenants.upstream_secret_encrypted"] == 1

        only_new = msgspec.structs.replace(settings, secret_keys=(new_key,))
        fresh = await build_hub(only_new)
        try:
            transport = httpx.ASGITransport(app=create_app(only_new, hub=fresh))
            async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
                me = await c.get("/v1/me", headers=bearer(integration["api_key"]))
                assert me.status_code == 200
            from hub.tenancy.models import Tenant

            async with fresh.rt.db.session() as session:
                stored = (await session.get(Tenant, tenant["id"])).upstream_secret_encrypted  # type: ignore[union-attr]
            assert stored is not None
            assert fresh.rt.vault.decrypt(stored) == "u" * 24
        finally:
            await fresh.close()
        # The old key alone no longer opens anything.
        with pytest.raises(DecryptionError):
            await build_runtime(settings)
        audit = (await admin.get("/audit", params={"action": "encryption_key.rotated"})).json()
        assert len(audit["items"]) == 1
    finally:
        # Put the session's database back under the suite's key for the tests that follow.
        both = msgspec.structs.replace(settings, secret_keys=(old_key, new_key))
        restore = await build_runtime(both)
        try:
            await reencrypt_all(restore)
        finally:
            await restore.close()
