"""The ``Idempotency-Key`` header and the request fingerprint.

The IETF draft defines the header as a Structured Field String (``"abc"``); clients
in the wild (Stripe style) send the bare value. Both name the same key: ``"abc"``
and ``abc`` are one key. The fingerprint is the action plus the canonical JSON of
the body, so key order, whitespace, escapes and ``1.0`` vs ``1`` do not matter.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from hub.web.decoding import too_deep
from hub.web.errors import ProblemError
from hub.web.input_rules import MAX_DEPTH

MAX_KEY_LENGTH = 255
HEADER = "idempotency-key"

# Integral floats up to 2**53 are exact in every JSON parser, so 1.0 and 1 are one number.
_EXACT_INT_LIMIT = 2**53


def _printable(value: str) -> bool:
    return all(" " <= ch <= "~" for ch in value)


def _unquote_sf_string(raw: str) -> str | None:
    """RFC 8941 sf-string: only ``\\"`` and ``\\\\`` escapes; None if malformed."""
    out: list[str] = []
    chars = iter(raw[1:-1])
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            if nxt not in ('"', "\\"):
                return None
            out.append(nxt)
        elif ch == '"':
            return None
        else:
            out.append(ch)
    return "".join(out)


def parse_idempotency_key(raw: str | list[str] | None) -> str:
    """The key from the header's value (or every value it came with, a list);
    400 ``IDEMPOTENCY_KEY_MISSING`` / ``_INVALID``."""
    if isinstance(raw, list):
        if len(raw) > 1:
            # Which one the client meant is a guess, and a wrong guess replays another
            # request's answer or runs the action twice.
            raise ProblemError(
                "IDEMPOTENCY_KEY_INVALID",
                f"send one Idempotency-Key header, not {len(raw)}",
            )
        raw = raw[0] if raw else None
    if raw is None or not raw.strip():
        raise ProblemError(
            "IDEMPOTENCY_KEY_MISSING",
            "every action needs an Idempotency-Key header (e.g. a UUID per logical request)",
        )
    raw = raw.strip()
    value: str | None = raw
    if raw.startswith('"') or raw.endswith('"'):
        # Quoted means an sf-string, whole and well-formed; a stray quote is a typo.
        quoted = len(raw) >= 2 and raw.startswith('"') and raw.endswith('"')
        value = _unquote_sf_string(raw) if quoted else None
    if value is None or not value or len(value) > MAX_KEY_LENGTH or not _printable(value):
        raise ProblemError(
            "IDEMPOTENCY_KEY_INVALID",
            f"the Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters, "
            'bare or as a quoted string ("...")',
        )
    return value


def _canonical(value: Any, depth: int = 0) -> Any:
    # Recursive for speed (the hot path of every action), bounded so it never nears
    # the interpreter's limit whatever the caller hands in.
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise too_deep()
        return {k: _canonical(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise too_deep()
        return [_canonical(v, depth + 1) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_INT_LIMIT:
        return int(value)
    return value


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, integral floats as integers."""
    return msgspec.json.encode(_canonical(value), order="sorted")


# The key a client sends to have the hub derive one from the request (Make, which
# cannot hash canonical JSON itself): ``auto:<fingerprint>``, so equal inputs (same
# action, same canonical body) share a key and different inputs never do.
DERIVED_KEY = "auto"


def effective_key(key: str, digest: str) -> str:
    return f"{DERIVED_KEY}:{digest}" if key == DERIVED_KEY else key


def fingerprint(action: str, body: Any) -> str:
    digest = hashlib.sha256(action.encode())
    digest.update(b"\n")
    digest.update(canonical_json(body))
    return digest.hexdigest()
