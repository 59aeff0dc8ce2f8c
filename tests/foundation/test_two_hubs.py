"""Two hubs with different settings live side by side in one process and never see
each other: nothing a hub holds is process-global (the composition root builds it all)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import msgspec

from hub.app import build_hub, create_app
from hub.clock import FrozenClock
from hub.config import Settings
from tests.support.databases import drop_postgres_database, make_test_database


def _other(settings: Settings, database_url: str, **changes: object) -> Settings:
    return msgspec.structs.replace(
        settings,
        database_url=database_url,
        redis_prefix=f"hubtest:{uuid.uuid4().hex[:10]}:",
        **changes,
    )


async def test_two_hubs_in_one_process_do_not_see_each_other(
    settings: Settings, tmp_path: Path, admin_headers: dict[str, str]
) -> None:
    url_b, base_b = await make_test_database(tmp_path / "b")
    small = _other(settings, settings.database_url, max_body_bytes=2048)
    other = _other(settings, url_b)
    a = await build_hub(small, clock=FrozenClock())
    b = await build_hub(other, clock=FrozenClock())
    open_hubs = [a, b]
    try:
        await a.start()
        await b.start()
        assert a.actions is not b.actions
        assert a.connectors is not b.connectors
        ta = httpx.ASGITransport(app=create_app(a.settings, hub=a))
        tb = httpx.ASGITransport(app=create_app(b.settings, hub=b))
        async with (
            httpx.AsyncClient(transport=ta, base_url="http://a.test") as ca,
            httpx.AsyncClient(transport=tb, base_url="http://b.test") as cb,
        ):
            r = await ca.post(
                "/admin/v1/tenants", json={"name": "Only in A"}, headers=admin_headers
            )
            assert r.status_code == 201, r.text
            tenant_id = r.json()["id"]
            assert (
                await cb.get(f"/admin/v1/tenants/{tenant_id}", headers=admin_headers)
            ).status_code == 404
            # Each hub answers with its own settings.
            big = {"name": "x" * 190, "limits": {"actions_per_minute": 10}, "pad": "y" * 3000}
            r = await ca.post("/admin/v1/tenants", json=big, headers=admin_headers)
            assert (r.status_code, r.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
            r = await cb.post("/admin/v1/tenants", json=big, headers=admin_headers)
            assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_FAILED")  # not too big
            # Closing one leaves the other serving.
            await a.close()
            open_hubs.remove(a)
            r = await cb.post("/admin/v1/tenants", json={"name": "B"}, headers=admin_headers)
            assert r.status_code == 201
    finally:
        for hub in open_hubs:
            await hub.close()
        if base_b is not None:
            await drop_postgres_database(base_b, url_b)
