"""Calling a URL a tenant configured: checked by the SSRF guard at every call,
connected to the address that was checked, with a bounded answer (``post``).

The Host header and TLS SNI keep the name, so a DNS answer that changes between
the check and the connect cannot reach a private address. Shared by every connector
that calls a tenant-configured URL (the upstream product, WhatsApp providers, …).
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult

import httpx
import msgspec

from hub.actions.handlers import ActionFailed
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


MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes


async def post(
    client: httpx.AsyncClient,
    target: PinnedTarget,
    *,
    party: str,
    seconds: float,
    headers: dict[str, str],
    content: bytes | None = None,
    data: dict[str, Any] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> Answer:
    """POST to a pinned target within ``seconds`` in all, reading at most 1 MiB of the
    answer. A timeout, an unreachable ``party`` or an oversized answer is a retriable
    ``ActionFailed`` (``UPSTREAM_TIMEOUT`` / ``UPSTREAM_ERROR``) naming it."""
    request = client.build_request(
        "POST",
        target.url,
        content=content,
        data=data,
        files=files,
        headers={**headers, **target.headers},
        extensions=target.extensions,
        timeout=seconds,
    )
    try:
        async with asyncio.timeout(seconds):
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        raise ActionFailed("UPSTREAM_ERROR", f"{party}'s answer is too large")
                    chunks.append(chunk)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        raise ActionFailed(
            "UPSTREAM_TIMEOUT", f"{party} did not answer within {seconds:g} s"
        ) from None
    except httpx.HTTPError as exc:
        raise ActionFailed(
            "UPSTREAM_ERROR", f"could not reach {party} ({type(exc).__name__})"
        ) from None
    return Answer(response.status_code, response.headers, b"".join(chunks))


class NotJson:
    """The decoded value of a body that is not JSON (``None`` is JSON's null)."""


NOT_JSON = NotJson()


def decode_json(raw: bytes) -> Any:
    """The JSON value of ``raw``, or ``NOT_JSON``."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return NOT_JSON
