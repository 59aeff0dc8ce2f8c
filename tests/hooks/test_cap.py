"""The per-integration subscription cap (settings.max_subscriptions_per_integration)."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from hub.config import Settings
from tests.conftest import Factory, bearer
from tests.events.helpers import subscribe, subscriber


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, max_subscriptions_per_integration=3)


async def test_at_most_the_configured_number_of_subscriptions(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    key = zap["api_key"]
    ids = [
        (await subscribe(client, key, target=f"http://127.0.0.1:9/{i}")).json()["id"]
        for i in range(3)
    ]
    r = await subscribe(client, key, target="http://127.0.0.1:9/3")
    assert r.status_code == 409
    assert r.json()["code"] == "CONFLICT"
    assert (await subscribe(client, key, target="http://127.0.0.1:9/0")).status_code == 200
    await client.delete(f"/v1/hooks/{ids[0]}", headers=bearer(key))
    assert (await subscribe(client, key, target="http://127.0.0.1:9/3")).status_code == 201
