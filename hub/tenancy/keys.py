"""API key format: ``hk_<key id>_<secret>``.

The key id (16 base32 chars) finds the row; the secret (52 base32 chars = 260
bits) is checked against its keyed hash. The fixed shape lets secret scanners
spot leaked keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.ids import random_token

KEY_PREFIX = "hk_"
KEY_ID_LENGTH = 16
SECRET_LENGTH = 52
MAX_CREDENTIAL_LENGTH = 512

_KEY_RE = re.compile(rf"^hk_([0-9a-z]{{{KEY_ID_LENGTH}}})_([0-9a-z]{{{SECRET_LENGTH}}})$")


@dataclass(frozen=True, slots=True)
class ParsedKey:
    key_id: str
    secret: str


def new_api_key() -> tuple[str, str, str]:
    """A fresh key: (full key shown once, key id, secret)."""
    key_id = random_token(KEY_ID_LENGTH)
    secret = random_token(SECRET_LENGTH)
    return f"{KEY_PREFIX}{key_id}_{secret}", key_id, secret


def parse_api_key(raw: str) -> ParsedKey | None:
    if len(raw) > MAX_CREDENTIAL_LENGTH:
        return None
    match = _KEY_RE.fullmatch(raw)
    if match is None:
        return None
    return ParsedKey(key_id=match.group(1), secret=match.group(2))
