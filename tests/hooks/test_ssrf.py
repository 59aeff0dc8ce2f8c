"""Target URLs pointing inside the network are refused when private targets are
not allowed (the default everywhere but tests and dev)."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from hub.config import Settings
from tests.conftest import Factory
from tests.events.helpers import subscribe, subscriber


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, allow_private_targets=False)


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://localhost:8080/hook",  # a name resolving to loopback
        "http://2130706433/hook",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/hook",  # and in hex
        "http://192.168.0.10/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
        "not a url",
    ],
)
async def test_private_and_malformed_targets_are_refused(
    client: httpx.AsyncClient, factory: Factory, target: str
) -> None:
    zap = await subscriber(factory, (await factory.tenant())["id"])
    r = await subscribe(client, zap["api_key"], target=target)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "TARGET_NOT_ALLOWED"
    assert body["errors"][0]["path"] == "$.target_url"
    assert (
        await client.get("/v1/hooks", headers={"Authorization": f"Bearer {zap['api_key']}"})
    ).json()["items"] == []
