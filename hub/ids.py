"""Object ids: a readable prefix and a time-ordered random part (ULID layout).

Time ordering keeps Postgres B-tree inserts local and lets lists page by id.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case

PREFIXES = {
    "tenant": "ten",
    "integration": "int",
    "admin_token": "adm",
    "audit": "aud",
    "execution": "exe",
    "event": "evt",
    "subscription": "sub",
    "delivery": "dlv",
    "attempt": "att",
    "request": "req",
    "connector": "con",
    "message": "msg",
    "portal_link": "pl",
}


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_ulid(millis: int | None = None) -> str:
    """26 characters: 48 bits of milliseconds (now, or ``millis``) then 80 random bits."""
    if millis is None:
        millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    return _encode(millis, 10) + _encode(rand, 16)


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_{new_ulid()}"


def random_token(n_chars: int) -> str:
    """Random lower-case base32 string with 5 bits per character."""
    rand = int.from_bytes(os.urandom((n_chars * 5 + 7) // 8), "big")
    return _encode(rand, n_chars)
