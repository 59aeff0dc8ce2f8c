"""The SSRF guard's ranges: every IANA special-purpose range that is
not globally reachable, 6to4 and site-local included, in both families — and the
same check, with the same answer, for a hook's ``target_url`` and a tenant's
``upstream_url``."""

from __future__ import annotations

import ipaddress

import httpx
import msgspec
import pytest

from hub.config import Settings
from hub.runtime import Runtime
from hub.security.targets import ip_allowed, refused_range
from tests.conftest import Factory, bearer
from tests.events.helpers import subscribe, subscriber
from tests.foundation.conftest import problem
from tests.support.snapshots import unchanged

# (address, the refused range's CIDR as the answer names it)
REFUSED = [
    ("0.0.0.0", "0.0.0.0/8"),
    ("0.1.2.3", "0.0.0.0/8"),
    ("10.0.0.1", "10.0.0.0/8"),
    ("100.64.0.1", "100.64.0.0/10"),
    ("100.100.100.200", "100.64.0.0/10"),  # Alibaba Cloud metadata
    ("100.127.255.255", "100.64.0.0/10"),
    ("127.0.0.1", "127.0.0.0/8"),
    ("127.255.255.254", "127.0.0.0/8"),
    ("169.254.169.254", "169.254.0.0/16"),  # AWS/GCP/Azure metadata
    ("172.16.0.1", "172.16.0.0/12"),
    ("172.31.255.255", "172.16.0.0/12"),
    ("192.0.0.1", "192.0.0.0/24"),
    ("192.0.0.9", "192.0.0.0/24"),
    ("192.0.0.170", "192.0.0.0/24"),
    ("192.0.2.1", "192.0.2.0/24"),
    ("192.88.99.1", "192.88.99.0/24"),
    ("192.168.1.1", "192.168.0.0/16"),
    ("198.18.0.1", "198.18.0.0/15"),
    ("198.19.255.255", "198.18.0.0/15"),
    ("198.51.100.7", "198.51.100.0/24"),
    ("203.0.113.9", "203.0.113.0/24"),
    ("224.0.0.1", "224.0.0.0/4"),
    ("239.255.255.250", "224.0.0.0/4"),
    ("240.0.0.1", "240.0.0.0/4"),
    ("255.255.255.255", "240.0.0.0/4"),
    ("::", "2000::/3"),
    ("::1", "2000::/3"),
    ("::ffff:127.0.0.1", "2000::/3"),  # IPv4-mapped: refused whatever it maps
    ("::ffff:8.8.8.8", "2000::/3"),
    ("::127.0.0.1", "2000::/3"),  # IPv4-compatible (deprecated)
    ("64:ff9b::127.0.0.1", "127.0.0.0/8"),  # NAT64 of loopback
    ("64:ff9b::a00:1", "10.0.0.0/8"),  # NAT64 of 10.0.0.1
    ("64:ff9b:1::1", "2000::/3"),  # local-use NAT64
    ("100::1", "2000::/3"),  # discard-only
    ("2001::1", "2001::/23"),  # Teredo
    ("2001:2::1", "2001::/23"),  # benchmarking
    ("2001:20::1", "2001::/23"),  # ORCHIDv2
    ("2001:1ff:ffff::1", "2001::/23"),
    ("2001:db8::1", "2001:db8::/32"),
    ("2002::1", "2002::/16"),  # 6to4
    ("2002:7f00:1::1", "2002::/16"),  # 6to4 of 127.0.0.1
    ("2002:808:808::1", "2002::/16"),  # 6to4 even of a public address
    ("3fff::1", "3fff::/20"),
    ("5f00::1", "2000::/3"),  # SRv6 SIDs
    ("fc00::1", "2000::/3"),
    ("fd00:ec2::254", "2000::/3"),  # AWS metadata over IPv6
    ("fe80::1", "2000::/3"),
    ("fec0::1", "2000::/3"),  # site-local (deprecated)
    ("feff::1", "2000::/3"),
    ("ff02::1", "2000::/3"),
]

ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "192.0.3.1",
    "198.20.0.1",
    "223.255.255.254",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2001:200::1",  # just past 2001::/23
    "2003::1",  # just past 6to4
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8: what DNS64 hands IPv6-only hosts
]


@pytest.mark.parametrize(("address", "cidr"), REFUSED)
def test_special_purpose_addresses_are_refused(address: str, cidr: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not ip_allowed(ip)
    refused = refused_range(ip)
    assert refused is not None
    assert refused.endswith(cidr), refused


@pytest.mark.parametrize("address", ALLOWED)
def test_global_unicast_addresses_are_allowed(address: str) -> None:
    assert refused_range(ipaddress.ip_address(address)) is None
    assert ip_allowed(ipaddress.ip_address(address))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, allow_private_targets=False)


def _url(address: str, path: str = "/hook") -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}{path}"


class Both:
    """A hook target and a tenant's upstream, set to the same URL."""

    def __init__(self, client: httpx.AsyncClient, factory: Factory) -> None:
        self.client = client
        self.factory = factory

    async def start(self) -> None:
        self.tenant = await self.factory.tenant()
        self.zap = await subscriber(self.factory, self.tenant["id"])

    async def hook(self, url: str) -> httpx.Response:
        return await subscribe(self.client, self.zap["api_key"], target=url)

    async def upstream(self, url: str) -> httpx.Response:
        return await self.client.patch(
            f"/admin/v1/tenants/{self.tenant['id']}",
            json={"upstream_url": url},
            headers=self.factory.admin_headers,
        )


@pytest.fixture
async def both(client: httpx.AsyncClient, factory: Factory) -> Both:
    both = Both(client, factory)
    await both.start()
    return both


async def test_both_urls_refuse_every_special_purpose_literal_alike(
    rt: Runtime, both: Both
) -> None:
    async with unchanged(rt.db):
        for address, cidr in REFUSED:
            url = _url(address)
            hook = problem(await both.hook(url), 422, "TARGET_NOT_ALLOWED")
            upstream = problem(await both.upstream(url), 422, "TARGET_NOT_ALLOWED")
            assert hook["errors"][0]["path"] == "$.target_url"
            assert upstream["errors"][0]["path"] == "$.upstream_url"
            message = hook["errors"][0]["message"]
            assert message == upstream["errors"][0]["message"], address
            assert hook["detail"] == upstream["detail"], address
            # The caller wrote the address, so the answer names the range it fell in.
            assert "private or reserved" in message, (address, message)
            assert cidr in message, (address, message)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://8.8.8.8/ganch\u00f4", "not ASCII"),  # was accepted as an upstream
        ("ftp://8.8.8.8/x", "scheme"),
        ("http://user:pw@8.8.8.8/x", "credentials"),
        ("http://8.8.8.8:99999/x", "valid URL"),
        ("http://localhost:9/x", "resolves to a private or reserved address"),
    ],
)
async def test_both_urls_answer_other_refusals_alike(
    rt: Runtime, both: Both, url: str, reason: str
) -> None:
    async with unchanged(rt.db):
        hook = problem(await both.hook(url), 422, "TARGET_NOT_ALLOWED")
        upstream = problem(await both.upstream(url), 422, "TARGET_NOT_ALLOWED")
    assert reason in hook["errors"][0]["message"]
    assert hook["errors"][0]["message"] == upstream["errors"][0]["message"]
    assert hook["detail"] == upstream["detail"]


async def test_both_urls_take_a_public_address(both: Both) -> None:
    for address in ("8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"):
        url = _url(address)
        assert (await both.hook(url)).status_code == 201, address
        r = await both.upstream(url)
        assert r.status_code == 200, r.text
        assert r.json()["upstream_url"] == url
    listed = await both.client.get("/v1/hooks", headers=bearer(both.zap["api_key"]))
    assert len(listed.json()["items"]) == 3
