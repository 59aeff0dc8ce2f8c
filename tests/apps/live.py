"""A live hub for the apps' tests: real processes sharing the test's database and Redis.

The hub runs as production runs it (``hub.server:app`` under uvicorn plus a
``hub worker``) when the test Redis is a real one; on the in-process Redis, which
two processes cannot share, ``hub dev`` runs API and worker in one process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from hub.config import Settings
from tests.apps.outside import World
from tests.support.processes import free_port, hub_env, serving, stop, uvicorn_argv


@contextlib.asynccontextmanager
async def live_hub(settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    env = hub_env(settings, HUB_ALLOW_PRIVATE_TARGETS="1")
    if settings.redis_is_embedded:
        argv = [sys.executable, "-m", "hub", "dev", "--host", "127.0.0.1", "--port", str(port)]
        async with serving(argv, env=env, port=port, log=tmp_path / "hub-dev.log") as base:
            yield base
        return
    async with serving(uvicorn_argv(port), env=env, port=port, log=tmp_path / "api.log") as base:
        with (tmp_path / "worker.log").open("wb") as sink:
            worker = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hub",
                "worker",
                env=env,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )
        try:
            yield base
        finally:
            await stop(worker)


async def provision(
    base: str, admin_token: str, world: World, kind: str = "zapier"
) -> dict[str, str]:
    """A tenant whose product is the stand-in, an app integration and an event source."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            r = await client.post(path, json=body)
            assert r.status_code == 201, r.text
            return r.json()  # type: ignore[no-any-return]

        tenant = await post("/admin/v1/tenants", {"name": "Padaria Demo"})
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        r = await client.patch(
            f"/admin/v1/tenants/{tenant['id']}",
            json={"upstream_url": f"{world.url}/upstream", "upstream_secret": secret},
        )
        assert r.status_code == 200, r.text
        zap = await post(
            f"/admin/v1/tenants/{tenant['id']}/integrations",
            {"name": "Sales zaps", "kind": kind, "scopes": ["actions:*", "triggers:*"]},
        )
        source = await post(
            f"/admin/v1/tenants/{tenant['id']}/integrations",
            {"name": "Lead engine", "kind": "source", "scopes": ["events:publish"]},
        )
    return {
        "HUB_TENANT_ID": tenant["id"],
        "HUB_TENANT_NAME": tenant["name"],
        "HUB_INTEGRATION_ID": zap["id"],
        "HUB_INTEGRATION_NAME": zap["name"],
        "HUB_API_KEY": zap["api_key"],
        "HUB_SOURCE_KEY": source["api_key"],
    }
