"""Keyed hashing of API-key secrets and admin tokens, and constant-time checks.

The key (the "pepper") is random, generated once per installation and stored
encrypted in ``hub_secrets``: a stolen database dump alone cannot test guesses.
Secrets carry >= 256 bits of entropy, so HMAC-SHA256 needs no slow KDF.
"""

from __future__ import annotations

import hashlib
import hmac


class SecretHasher:
    def __init__(self, pepper: bytes) -> None:
        if len(pepper) < 32:
            raise ValueError("pepper must be at least 32 bytes")
        self._pepper = pepper

    def hash(self, secret: str) -> bytes:
        return hmac.new(self._pepper, secret.encode("utf-8"), hashlib.sha256).digest()

    def verify(self, secret: str, expected: bytes) -> bool:
        return hmac.compare_digest(self.hash(secret), expected)

    def derive(self, purpose: str) -> bytes:
        """A sub-key for another keyed purpose (e.g. the sanitizer's per-tenant hash)."""
        return hmac.new(self._pepper, b"derive:" + purpose.encode(), hashlib.sha256).digest()
