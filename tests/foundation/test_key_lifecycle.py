"""API keys over HTTP: create, use, rotate with a grace period, expire, revoke."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.clock import FrozenClock
from hub.config import Settings
from hub.runtime import Runtime
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin, problem
from tests.support.processes import free_port, hub_env, serving, uvicorn_argv
from tests.support.snapshots import unchanged

DAY = 24 * 3600
KEY_RE = re.compile(r"^hk_[0-9a-z]{16}_[0-9a-z]{52}$")


async def me(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.get("/v1/me", headers=bearer(key))


async def rotate(admin: Admin, integration_id: str, body: Any = None) -> dict[str, Any]:
    r = await admin.post(f"/integrations/{integration_id}/keys/rotate", body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def key_states(admin: Admin, integration_id: str) -> dict[str, str]:
    r = await admin.get(f"/integrations/{integration_id}")
    assert r.status_code == 200
    return {k["key_id"]: k["status"] for k in r.json()["keys"]}


async def test_a_new_key_is_well_formed_and_works(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    integration = await factory.integration()
    key = integration["api_key"]
    assert KEY_RE.fullmatch(key)
    assert key.split("_")[1] == integration["key_id"]
    # 52 base32 characters: 260 bits of secret.
    assert len(key.split("_")[2]) * 5 >= 256
    r = await me(client, key)
    assert r.status_code == 200
    assert r.json()["key_id"] == integration["key_id"]


async def test_rotation_keeps_the_old_key_for_the_grace_period_then_it_expires(
    client: httpx.AsyncClient, factory: Factory, admin: Admin, clock: FrozenClock
) -> None:
    integration = await factory.integration()
    old = integration["api_key"]
    assert (await me(client, old)).status_code == 200

    rotated = await rotate(admin, integration["id"])  # no body: the default grace, 24 h
    new = rotated["api_key"]
    assert KEY_RE.fullmatch(new)
    assert new != old
    assert rotated["key_id"] == new.split("_")[1]
    assert datetime.fromisoformat(rotated["previous_key_expires_at"]) == clock.now() + timedelta(
        seconds=DAY
    )

    assert (await me(client, old)).json()["key_id"] == integration["key_id"]
    assert (await me(client, new)).json()["key_id"] == rotated["key_id"]
    assert await key_states(admin, integration["id"]) == {
        integration["key_id"]: "expiring",
        rotated["key_id"]: "active",
    }

    clock.advance(DAY - 1)
    assert (await me(client, old)).status_code == 200
    clock.advance(1)
    problem(await me(client, old), 401, "KEY_EXPIRED")
    assert (await me(client, new)).status_code == 200
    assert await key_states(admin, integration["id"]) == {
        integration["key_id"]: "expired",
        rotated["key_id"]: "active",
    }


async def test_grace_zero_expires_the_old_key_at_once(
    client: httpx.AsyncClient, factory: Factory, admin: Admin, clock: FrozenClock
) -> None:
    integration = await factory.integration()
    rotated = await rotate(admin, integration["id"], {"grace_seconds": 0})
    assert datetime.fromisoformat(rotated["previous_key_expires_at"]) == clock.now()
    problem(await me(client, integration["api_key"]), 401, "KEY_EXPIRED")
    assert (await me(client, rotated["api_key"])).status_code == 200


async def test_a_second_rotation_never_extends_an_older_keys_grace(
    client: httpx.AsyncClient, factory: Factory, admin: Admin, clock: FrozenClock
) -> None:
    integration = await factory.integration()
    first = integration["api_key"]
    await rotate(admin, integration["id"], {"grace_seconds": 3600})
    clock.advance(60)
    third = await rotate(admin, integration["id"], {"grace_seconds": 7200})
    clock.advance(3600 - 60)
    problem(await me(client, first), 401, "KEY_EXPIRED")
    assert (await me(client, third["api_key"])).status_code == 200


@pytest.mark.parametrize("grace", [0, 1, 604800])
async def test_grace_bounds_are_accepted(factory: Factory, admin: Admin, grace: int) -> None:
    integration = await factory.integration()
    await rotate(admin, integration["id"], {"grace_seconds": grace})


@pytest.mark.parametrize("grace", [-1, 604801, 10**12, "60", 1.5, None, True])
async def test_grace_outside_bounds_is_refused(
    rt: Runtime, factory: Factory, admin: Admin, grace: Any
) -> None:
    integration = await factory.integration()
    async with unchanged(rt.db):
        r = await admin.post(
            f"/integrations/{integration['id']}/keys/rotate", {"grace_seconds": grace}
        )
    body = problem(r, 422, "VALIDATION_FAILED")
    assert [e["path"] for e in body["errors"]] == ["$.grace_seconds"]


async def test_revoking_one_key_leaves_the_others(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    integration = await factory.integration()
    rotated = await rotate(admin, integration["id"])
    r = await admin.post(
        f"/integrations/{integration['id']}/keys/revoke", {"key_id": integration["key_id"]}
    )
    assert r.status_code == 200
    assert r.json() == {"revoked": [integration["key_id"]]}
    problem(await me(client, integration["api_key"]), 401, "KEY_REVOKED")
    assert (await me(client, rotated["api_key"])).status_code == 200
    states = await key_states(admin, integration["id"])
    assert states == {integration["key_id"]: "revoked", rotated["key_id"]: "active"}


async def test_revoking_all_keys_is_immediate(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    integration = await factory.integration()
    rotated = await rotate(admin, integration["id"])
    r = await admin.post(f"/integrations/{integration['id']}/keys/revoke")
    assert r.status_code == 200
    assert sorted(r.json()["revoked"]) == sorted([integration["key_id"], rotated["key_id"]])
    for key in (integration["api_key"], rotated["api_key"]):
        problem(await me(client, key), 401, "KEY_REVOKED")
    # Revoking again changes nothing and says so.
    again = await admin.post(f"/integrations/{integration['id']}/keys/revoke", {})
    assert again.json() == {"revoked": []}


async def test_revoking_an_unknown_or_foreign_key_id_is_not_found(
    rt: Runtime, factory: Factory, admin: Admin
) -> None:
    mine = await factory.integration()
    other = await factory.integration()
    async with unchanged(rt.db):
        for key_id in ("0" * 16, other["key_id"]):
            r = await admin.post(f"/integrations/{mine['id']}/keys/revoke", {"key_id": key_id})
            problem(r, 404, "NOT_FOUND")
        r = await admin.post(f"/integrations/{mine['id']}/keys/revoke", {"key_id": 5})
        problem(r, 422, "VALIDATION_FAILED")


async def test_a_disabled_integration_answers_integration_disabled(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    integration = await factory.integration()
    r = await admin.patch(f"/integrations/{integration['id']}", {"status": "disabled"})
    assert r.status_code == 200
    problem(await me(client, integration["api_key"]), 403, "INTEGRATION_DISABLED")
    await admin.patch(f"/integrations/{integration['id']}", {"status": "active"})
    assert (await me(client, integration["api_key"])).status_code == 200


async def test_a_disabled_tenant_disables_its_integrations(
    client: httpx.AsyncClient, factory: Factory, admin: Admin
) -> None:
    integration = await factory.integration()
    r = await admin.patch(f"/tenants/{integration['tenant_id']}", {"status": "disabled"})
    assert r.status_code == 200
    problem(await me(client, integration["api_key"]), 403, "INTEGRATION_DISABLED")


async def test_revocation_reaches_another_api_process_at_once(
    client: httpx.AsyncClient,
    factory: Factory,
    admin: Admin,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Two API processes share the database; a key revoked through one fails on the other."""
    integration = await factory.integration()
    rotated = await rotate(admin, integration["id"])
    port = free_port()
    async with (
        serving(
            uvicorn_argv(port), env=hub_env(settings), port=port, log=tmp_path / "api2.log"
        ) as other,
        httpx.AsyncClient(base_url=other) as remote,
    ):
        for key in (integration["api_key"], rotated["api_key"]):
            assert (await me(remote, key)).status_code == 200
        r = await admin.post(
            f"/integrations/{integration['id']}/keys/revoke", {"key_id": rotated["key_id"]}
        )
        assert r.status_code == 200
        problem(await me(remote, rotated["api_key"]), 401, "KEY_REVOKED")
        assert (await me(remote, integration["api_key"])).status_code == 200
        # And the other way round: revoked through the second process, refused here.
        r = await remote.post(
            f"/admin/v1/integrations/{integration['id']}/keys/revoke", headers=admin.headers
        )
        assert r.status_code == 200, r.text
        problem(await me(client, integration["api_key"]), 401, "KEY_REVOKED")
