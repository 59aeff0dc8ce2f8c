"""The SSRF guard for every outbound URL (upstreams, hook targets, deliveries).

A URL is allowed when its scheme fits the environment and every address its
host resolves to is globally routable. Checked when the URL is saved and again
at send time, because DNS answers change.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from hub.config import Settings
from hub.web.errors import FieldError, ProblemError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata endpoints beyond link-local 169.254.169.254 (e.g. Alibaba).
_METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}


def ip_allowed(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA:
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _refuse(path: str, reason: str) -> ProblemError:
    return ProblemError(
        "TARGET_NOT_ALLOWED",
        f"target URL not allowed: {reason}",
        errors=[FieldError(path=path, message=reason)],
    )


def parse_target(url: str, settings: Settings, *, path: str = "$.target_url") -> SplitResult:
    """Syntax and scheme checks only (no DNS)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a non-numeric port
    except ValueError:
        raise _refuse(path, "not a valid URL") from None
    schemes = ("https",) if settings.is_production else ("https", "http")
    if parts.scheme not in schemes:
        raise _refuse(path, f"scheme must be {' or '.join(schemes)}")
    if not parts.hostname:
        raise _refuse(path, "no host")
    if parts.username or parts.password:
        raise _refuse(path, "credentials in the URL are not allowed")
    if any(ch.isspace() for ch in url):
        raise _refuse(path, "whitespace in the URL")
    return parts


async def resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def resolve_allowed(host: str, port: int, settings: Settings) -> list[IPAddress]:
    """The addresses to connect to; raises ``ProblemError`` if any is not allowed."""
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError):
        raise _refuse("$", "host does not resolve") from None
    if not addresses:
        raise _refuse("$", "host does not resolve")
    if not settings.allow_private_targets:
        for ip in addresses:
            if not ip_allowed(ip):
                raise _refuse("$", "host resolves to a private or reserved address")
    return addresses


async def check_target_url(url: str, settings: Settings, *, path: str = "$.target_url") -> None:
    parts = parse_target(url, settings, path=path)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    assert parts.hostname is not None
    try:
        await resolve_allowed(parts.hostname, port, settings)
    except ProblemError as exc:
        raise _refuse(path, exc.errors[0].message if exc.errors else exc.detail) from None
