"""A live hub for the contract tests: a real API process and the credentials to call it.

The hub runs as production runs it (``hub.server:app`` under uvicorn, a real process
on a loopback port) on the run's database and Redis, one process per test module. No
worker runs, and private targets stay refused: nothing a test subscribes is ever
delivered, no generated URL is called.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hub.config import load_settings
from hub.store.engine import Database
from tests.conftest import BOOTSTRAP_TOKEN
from tests.support import databases
from tests.support.processes import free_port, hub_env, serving, uvicorn_argv


@dataclass(frozen=True)
class LiveHub:
    base_url: str
    api_key: str
    admin_token: str


# Security scheme (as the document names it) -> bearer credential of the live hub, set
# while it runs (schemathesis' auth provider reads it; it cannot take fixtures).
CREDENTIALS: dict[str, str] = {}


@pytest.fixture(scope="module")
async def live_hub(
    database_url: str, secret_key: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveHub]:
    tmp = tmp_path_factory.mktemp("contract")
    hub_settings = load_settings(
        {
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": database_url,
            "HUB_REDIS_URL": databases.test_redis_url(),
            "HUB_REDIS_PREFIX": f"hubtest:{uuid.uuid4().hex[:10]}:",
            "HUB_SECRET_KEYS": secret_key,
            "HUB_BOOTSTRAP_ADMIN_TOKEN": BOOTSTRAP_TOKEN,
            "HUB_STATE_DIR": str(tmp / "state"),
        }
    )
    db = Database(database_url)
    try:
        await databases.wipe(db)
    finally:
        await db.dispose()
    port = free_port()
    env = hub_env(hub_settings, HUB_ALLOW_PRIVATE_TARGETS="")
    async with serving(uvicorn_argv(port), env=env, port=port, log=tmp / "api.log") as base:
        hub = LiveHub(base, await _provision(base), BOOTSTRAP_TOKEN)
        CREDENTIALS.update(apiKey=hub.api_key, adminToken=hub.admin_token)
        try:
            yield hub
        finally:
            CREDENTIALS.clear()


async def _provision(base: str) -> str:
    """A tenant and a sandbox integration holding every scope; its API key."""
    headers = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        r = await client.post("/admin/v1/tenants", json={"name": "Contract"})
        assert r.status_code == 201, r.text
        tenant: dict[str, Any] = r.json()
        r = await client.post(
            f"/admin/v1/tenants/{tenant['id']}/integrations",
            json={
                "name": "Fuzzer",
                "kind": "zapier",
                "mode": "sandbox",
                "scopes": ["actions:*", "triggers:*", "events:publish"],
            },
        )
        assert r.status_code == 201, r.text
        key: str = r.json()["api_key"]
        return key
