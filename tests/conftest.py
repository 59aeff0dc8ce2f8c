"""Shared fixtures: a migrated database per run, a fresh runtime and client per test.

Postgres and Redis are used when ``HUB_TEST_DATABASE_URL`` / ``HUB_TEST_REDIS_URL``
point at them (CI), SQLite and the in-process Redis otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from hub.app import Hub, build_hub, create_app
from hub.clock import FrozenClock
from hub.config import Settings, load_settings
from hub.runtime import Runtime
from hub.security.encryption import generate_key
from tests.support.databases import drop_postgres_database, make_test_database, test_redis_url, wipe

BOOTSTRAP_TOKEN = "test-bootstrap-admin-token-0123456789abcdef"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url, base = await make_test_database(tmp_path_factory.mktemp("db"))
    yield url
    if base is not None:
        await drop_postgres_database(base, url)


@pytest.fixture(scope="session")
def secret_key() -> str:
    return generate_key()


@pytest.fixture
def settings(database_url: str, secret_key: str, tmp_path: Path) -> Settings:
    """Settings for this test: its own Redis prefix, state dir and the run's database."""
    return load_settings(
        {
            "HUB_ENV": "development",
            "HUB_DATABASE_URL": database_url,
            "HUB_REDIS_URL": test_redis_url(),
            "HUB_REDIS_PREFIX": f"hubtest:{uuid.uuid4().hex[:10]}:",
            "HUB_SECRET_KEYS": secret_key,
            "HUB_BOOTSTRAP_ADMIN_TOKEN": BOOTSTRAP_TOKEN,
            "HUB_ALLOW_PRIVATE_TARGETS": "1",
            "HUB_STATE_DIR": str(tmp_path / "state"),
            "HUB_LOG_LEVEL": "WARNING",
        }
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def hub(settings: Settings, clock: FrozenClock) -> AsyncIterator[Hub]:
    """A started hub on a wiped database, built as every process builds it."""
    built = await build_hub(settings, clock=clock)
    await wipe(built.rt.db)
    await built.start()
    yield built
    await built.close()


@pytest.fixture
def rt(hub: Hub) -> Runtime:
    return hub.rt


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app in this event loop (asyncpg connections are loop-bound)."""
    app = create_app(hub.settings, hub=hub)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}


class Factory:
    """Creates tenants and integrations over the admin API, as an admin would."""

    def __init__(self, client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
        self.client = client
        self.admin_headers = admin_headers

    async def tenant(self, name: str = "Acme", **fields: Any) -> dict[str, Any]:
        r = await self.client.post(
            "/admin/v1/tenants", json={"name": name, **fields}, headers=self.admin_headers
        )
        assert r.status_code == 201, r.text
        return msgspec.json.decode(r.content)  # type: ignore[no-any-return]

    async def integration(
        self,
        tenant_id: str | None = None,
        *,
        name: str = "Zap",
        kind: str = "zapier",
        mode: str = "live",
        scopes: list[str] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        if tenant_id is None:
            tenant_id = (await self.tenant())["id"]
        r = await self.client.post(
            f"/admin/v1/tenants/{tenant_id}/integrations",
            json={
                "name": name,
                "kind": kind,
                "mode": mode,
                "scopes": scopes if scopes is not None else ["actions:*", "triggers:*"],
                **fields,
            },
            headers=self.admin_headers,
        )
        assert r.status_code == 201, r.text
        return msgspec.json.decode(r.content)  # type: ignore[no-any-return]


@pytest.fixture
def factory(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> Factory:
    return Factory(client, admin_headers)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


AsyncFn = Callable[..., Awaitable[Any]]
