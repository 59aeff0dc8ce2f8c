"""Calling a URL a tenant configured: checked by the SSRF guard at every call, and
connected to the address that was checked.

The Host header and TLS SNI keep the name, so a DNS answer that changes between
the check and the connect cannot reach a private address. Shared by every connector
that calls a tenant-configured URL (the upstream product, WhatsApp providers, …).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult

from hub.config import Settings
from hub.security import targets

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    url: str  # the checked address in place of the host name
    headers: dict[str, str]  # Host (and Connection: close for https)
    extensions: dict[str, Any]  # httpx: TLS SNI for https

    @property
    def host(self) -> str:
        return self.headers["host"]


def _pinned(parts: SplitResult, address: IPAddress) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


async def pin(url: str, settings: Settings, *, path: str) -> PinnedTarget:
    """Check ``url`` now and pin it; raises ``ProblemError("TARGET_NOT_ALLOWED")``."""
    parts = targets.parse_target(url, settings, path=path)
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await targets.resolve_allowed(parts.hostname, port, settings)
    headers = {"host": parts.netloc}
    extensions: dict[str, Any] = {}
    if parts.scheme == "https":
        # The connection goes to the checked address; TLS still verifies the name. Pooled
        # connections are keyed by address, so one must never carry another host's calls.
        extensions["sni_hostname"] = parts.hostname
        headers["connection"] = "close"
    return PinnedTarget(_pinned(parts, addresses[0]), headers, extensions)
