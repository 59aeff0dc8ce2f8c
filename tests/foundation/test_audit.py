"""The audit log: what is recorded, that it cannot change, and how it is read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.clock import FrozenClock
from hub.runtime import Runtime
from hub.security.bursts import BURST_THRESHOLD
from tests.conftest import Factory, bearer
from tests.foundation.conftest import Admin


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def entries(admin: Admin, **params: Any) -> list[dict[str, Any]]:
    r = await admin.get("/audit", params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_admin_acts_are_recorded_with_actor_target_and_correlation(
    client: httpx.AsyncClient, admin: Admin, clock: FrozenClock
) -> None:
    t = (
        await admin.post("/tenants", {"name": "Acme"}, headers={"X-Request-Id": "r-tenant"})
    ).json()
    created = (
        await admin.post(
            f"/tenants/{t['id']}/integrations",
            {"name": "zap", "kind": "zapier"},
            headers={"X-Request-Id": "r-create"},
        )
    ).json()
    iid = created["id"]
    await admin.patch(f"/integrations/{iid}", {"name": "zap 2"}, headers={"X-Request-Id": "r-upd"})
    await admin.patch(
        f"/integrations/{iid}", {"status": "disabled"}, headers={"X-Request-Id": "r-disable"}
    )
    rotated = (
        await admin.post(
            f"/integrations/{iid}/keys/rotate",
            {"grace_seconds": 60},
            headers={"X-Request-Id": "r-rotate"},
        )
    ).json()
    await admin.post(
        f"/integrations/{iid}/keys/revoke",
        {"key_id": created["key_id"]},
        headers={"X-Request-Id": "r-revoke"},
    )
    token = (
        await admin.post(
            "/tokens", {"name": "ops", "tenant_id": t["id"]}, headers={"X-Request-Id": "r-token"}
        )
    ).json()

    log = {(e["correlation_id"], e["action"]): e for e in await entries(admin)}
    expected = {
        ("r-tenant", "tenant.created"): ("tenant", t["id"]),
        ("r-create", "integration.created"): ("integration", iid),
        ("r-create", "key.issued"): ("api_key", created["key_id"]),
        ("r-upd", "integration.updated"): ("integration", iid),
        ("r-disable", "integration.disabled"): ("integration", iid),
        ("r-rotate", "key.rotated"): ("api_key", rotated["key_id"]),
        ("r-revoke", "key.revoked"): ("api_key", created["key_id"]),
        ("r-token", "admin_token.created"): ("admin_token", token["id"]),
    }
    for (correlation, action), (target_type, target_id) in expected.items():
        entry = log[(correlation, action)]
        assert entry["target_type"] == target_type
        assert entry["target_id"] == target_id
        assert entry["tenant_id"] == t["id"]
        assert entry["actor"].startswith("admin:adm_")
        assert entry["outcome"] == "success"
        assert datetime.fromisoformat(entry["at"]) == clock.now()
        if action != "tenant.created" and action != "admin_token.created":
            assert entry["integration_id"] == iid
    assert log[("r-rotate", "key.rotated")]["details"]["grace_seconds"] == 60
    assert log[("r-upd", "integration.updated")]["details"] == {"fields": ["name"]}
    assert log[("r-disable", "integration.disabled")]["details"] == {"fields": ["status"]}


async def test_a_burst_of_failed_authentications_is_recorded_once(
    client: httpx.AsyncClient, admin: Admin
) -> None:
    bad = bearer("hk_" + "0" * 16 + "_" + "a" * 52)
    for n in range(BURST_THRESHOLD * 2):
        r = await client.get("/v1/me", headers={**bad, "X-Request-Id": f"bad-{n}"})
        assert r.status_code == 401
    bursts = await entries(admin, action="auth.failure_burst")
    assert len(bursts) == 1
    burst = bursts[0]
    assert burst["outcome"] == "denied"
    assert burst["correlation_id"] == f"bad-{BURST_THRESHOLD - 1}"
    assert burst["details"]["kind"] == "integration"
    assert burst["details"]["failures"] == BURST_THRESHOLD
    assert "hk_" not in str(burst)


async def test_bursts_are_counted_per_window(
    client: httpx.AsyncClient, admin: Admin, clock: FrozenClock
) -> None:
    from hub.security.bursts import WINDOW_SECONDS

    for _ in range(BURST_THRESHOLD - 1):
        await client.get("/admin/v1/tenants", headers=bearer("wrong"))
    clock.advance(WINDOW_SECONDS + 1)
    # A new window: nine more failures do not make a burst.
    for _ in range(BURST_THRESHOLD - 1):
        await client.get("/admin/v1/tenants", headers=bearer("wrong"))
    assert await entries(admin, action="auth.failure_burst") == []
    await client.get("/admin/v1/tenants", headers=bearer("wrong"))
    [burst] = await entries(admin, action="auth.failure_burst")
    assert burst["details"]["kind"] == "admin"


async def test_filters_and_pagination(factory: Factory, admin: Admin, clock: FrozenClock) -> None:
    t1 = await factory.tenant("One")
    start = clock.now()
    clock.advance(10)
    i1 = await factory.integration(t1["id"], name="a")
    clock.advance(10)
    middle = clock.now()
    i2 = await factory.integration(t1["id"], name="b")
    clock.advance(10)
    t2 = await factory.tenant("Two")
    i3 = await factory.integration(t2["id"], name="c")

    everything = await entries(admin)
    assert len(everything) == 9  # 2 tenants, 3 x (integration + key), 1 bootstrap token
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)  # newest first

    only_t1 = await entries(admin, tenant_id=t1["id"])
    assert {e["tenant_id"] for e in only_t1} == {t1["id"]}
    assert len(only_t1) == 5
    only_i1 = await entries(admin, integration_id=i1["id"])
    assert {e["action"] for e in only_i1} == {"integration.created", "key.issued"}
    assert {e["integration_id"] for e in only_i1} == {i1["id"]}
    by_action = await entries(admin, action="key.issued")
    assert len(by_action) == 3
    key_id = by_action[0]["target_id"]
    assert [e["target_id"] for e in await entries(admin, target_id=key_id)] == [key_id]
    by_actor = await entries(admin, actor=everything[0]["actor"])
    assert {e["actor"] for e in by_actor} == {everything[0]["actor"]}
    assert len(by_actor) == 8  # all but the bootstrap token's entry (actor "system")
    assert await entries(admin, actor="admin:adm_nobody") == []

    since = await entries(admin, since=iso(middle))
    assert {e["integration_id"] for e in since if e["integration_id"]} == {i2["id"], i3["id"]}
    assert all(datetime.fromisoformat(e["at"]) >= middle for e in since)
    until = await entries(admin, until=iso(middle))
    assert all(datetime.fromisoformat(e["at"]) < middle for e in until)
    assert len(since) + len(until) == len(everything)
    window = await entries(admin, since=iso(start), until=iso(middle), tenant_id=t1["id"])
    assert {e["integration_id"] for e in window if e["integration_id"]} == {i1["id"]}
    # An offset other than Z works too (sent encoded, "+" would be a space in a query).
    shifted = middle.astimezone().isoformat()
    assert len(await entries(admin, since=shifted)) == len(since)

    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await admin.get("/audit", params=params)).json()
        pages.extend(e["id"] for e in page["items"])
        assert len(page["items"]) <= 2
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == ids


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET actor = 'me'", "DELETE FROM audit_log"]
)
async def test_postgres_refuses_to_change_the_audit_log(
    rt: Runtime, admin: Admin, statement: str
) -> None:
    if rt.db.is_sqlite:
        pytest.skip("the append-only trigger is Postgres's")
    await admin.post("/tenants", {"name": "Acme"})
    with pytest.raises(DBAPIError, match="append-only"):
        async with rt.db.transaction() as session:
            await session.execute(text(statement))
    assert len(await entries(admin)) == 2
