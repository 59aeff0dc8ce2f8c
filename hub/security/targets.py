"""The SSRF guard for every outbound URL (upstreams, hook targets, deliveries).

A URL is allowed when its scheme fits the environment and every address its
host resolves to lies outside the refused ranges below (docs/api.md, "The SSRF
guard"). Checked when the URL is saved (``check_target_url``, which also wants it
ASCII) and again at send time, because DNS answers change.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from hub.config import Settings
from hub.web.errors import FieldError, ProblemError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(table: tuple[tuple[str, str], ...]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(cidr), f"{name} {cidr}") for cidr, name in table)


# An explicit table rather than ``ipaddress``'s ``is_global``/``is_private``: those
# changed between Python patch releases (3.11.10, 3.12.4, 3.13), and the guard must
# not. IPv4: every range of the IANA special-purpose registry that is not globally
# reachable, plus multicast and the deprecated 6to4 relay anycast. Cloud metadata
# endpoints fall inside them (169.254.169.254 link-local, Alibaba's 100.100.100.200
# shared address space).
_REFUSED_V4 = _networks(
    (
        ("0.0.0.0/8", "this network"),
        ("10.0.0.0/8", "private-use"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private-use"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
        ("192.168.0.0/16", "private-use"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved (and broadcast)"),
    )
)

# IPv6: only global unicast (2000::/3) is allowed at all, which leaves out loopback,
# unspecified, IPv4-mapped and -compatible, discard-only 100::/64, unique-local
# fc00::/7 (AWS metadata fd00:ec2::254), link-local fe80::/10, site-local fec0::/10,
# multicast and the unassigned rest. Inside it, these special-purpose ranges:
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_REFUSED_V6 = _networks(
    (
        # Teredo, benchmarking, ORCHID, AMT, anycast services: none is a web server.
        ("2001::/23", "IETF protocol assignments"),
        ("2001:db8::/32", "documentation"),
        # Tunnels to an IPv4 address of the sender's choosing (e.g. 2002:7f00:1::).
        ("2002::/16", "6to4"),
        ("3fff::/20", "documentation"),
    )
)
# NAT64 (RFC 6052): DNS64 hands IPv6-only hosts 64:ff9b::<IPv4> for IPv4-only names,
# so the prefix is judged by the IPv4 address it carries. Local-use 64:ff9b:1::/48
# is outside 2000::/3 and refused.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def refused_range(ip: IPAddress) -> str | None:
    """The name and CIDR of the refused range holding ``ip``, or None if it is allowed."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64:
            embedded = refused_range(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
            return None if embedded is None else f"NAT64 64:ff9b::/96 of {embedded}"
        if ip not in _GLOBAL_UNICAST_V6:
            return "not global unicast 2000::/3"
        table = _REFUSED_V6
    else:
        table = _REFUSED_V4
    for network, name in table:
        if ip in network:
            return name
    return None


def ip_allowed(ip: IPAddress) -> bool:
    return refused_range(ip) is None


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


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def check_target_url(url: str, settings: Settings, *, path: str = "$.target_url") -> None:
    """The one check of a URL the hub will call, when it is saved (hook targets,
    tenant upstreams): 422 ``TARGET_NOT_ALLOWED`` at ``path`` with the reason."""
    # Stored and later sent as given, so one spelling only (no IDNA at send time).
    if not url.isascii():
        raise _refuse(path, "not ASCII: use a punycode host and a percent-encoded path")
    parts = parse_target(url, settings, path=path)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    assert parts.hostname is not None
    literal = _literal(parts.hostname)
    if literal is not None and not settings.allow_private_targets:
        # The caller wrote the address, so naming its range tells them nothing new
        # (for a name, which range it resolves to stays unsaid: no DNS oracle).
        refused = refused_range(literal)
        if refused is not None:
            raise _refuse(path, f"host is a private or reserved address: {refused}")
    try:
        await resolve_allowed(parts.hostname, port, settings)
    except ProblemError as exc:
        raise _refuse(path, exc.errors[0].message if exc.errors else exc.detail) from None
