"""No plaintext credential or secret in the database: keys and tokens are hashed,
secrets encrypted (and still usable)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from hub.runtime import Runtime
from hub.tenancy.models import Tenant
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin
from tests.support.snapshots import dump_text, sqlite_file_bytes

UPSTREAM_SECRET = "upstream-signing-secret-Zx81Qp2LmN"


async def test_a_database_dump_holds_no_plaintext_secret(
    rt: Runtime, client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    tenant = await factory.tenant("Acme")
    r = await admin.patch(
        f"/tenants/{tenant['id']}",
        {"upstream_url": "http://127.0.0.1:9/hook", "upstream_secret": UPSTREAM_SECRET},
    )
    assert r.status_code == 200, r.text
    assert r.json()["upstream_secret_set"] is True
    assert UPSTREAM_SECRET not in r.text

    integration = await factory.integration(tenant["id"])
    rotated = (await admin.post(f"/integrations/{integration['id']}/keys/rotate")).json()
    keys = [integration["api_key"], rotated["api_key"]]
    for key in keys:
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
    platform_token = await admin.token(None, name="ops")
    tenant_token = await admin.token(tenant["id"], name="acme-ops")
    assert rt.settings.bootstrap_admin_token is not None

    plaintexts = {
        "upstream secret": UPSTREAM_SECRET,
        "bootstrap token": rt.settings.bootstrap_admin_token,
        "platform token": platform_token,
        "platform token body": platform_token.removeprefix("hadm_"),
        "tenant token": tenant_token,
        "tenant token body": tenant_token.removeprefix("hadm_"),
        "hashing pepper": rt.hasher._pepper.hex(),
    }
    for n, key in enumerate(keys):
        plaintexts[f"api key {n}"] = key
        plaintexts[f"api key {n} secret"] = key.rsplit("_", 1)[1]

    await rt.key_usage.flush(rt.db)
    dump = await dump_text(rt.db)
    assert integration["key_id"] in dump  # the dump is real: key ids are stored
    for what, value in plaintexts.items():
        assert value not in dump, what
        assert value.lower() not in dump.lower(), what
    if rt.db.is_sqlite:
        raw = sqlite_file_bytes(rt.settings.database_url)
        for what, value in plaintexts.items():
            assert value.encode() not in raw, what

    # Encrypted, not dropped: the stored secret decrypts back.
    async with rt.db.session() as session:
        stored = await session.scalar(
            select(Tenant.upstream_secret_encrypted).where(Tenant.id == tenant["id"])
        )
    assert stored is not None
    assert rt.vault.decrypt(stored) == UPSTREAM_SECRET


async def test_the_upstream_secret_is_write_only(factory: Factory, admin: Admin) -> None:
    tenant = await factory.tenant("Acme")
    await admin.patch(f"/tenants/{tenant['id']}", {"upstream_secret": UPSTREAM_SECRET})
    for r in (await admin.get(f"/tenants/{tenant['id']}"), await admin.get("/tenants")):
        assert UPSTREAM_SECRET not in r.text
    r = await admin.patch(f"/tenants/{tenant['id']}", {"upstream_secret": None})
    assert r.json()["upstream_secret_set"] is False
