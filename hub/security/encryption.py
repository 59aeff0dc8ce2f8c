"""Secret fields at rest: MultiFernet over ``HUB_SECRET_KEYS`` (first key encrypts)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.config import ConfigError


class DecryptionError(Exception):
    """A stored secret does not decrypt under any configured key."""


class Vault:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ConfigError("HUB_SECRET_KEYS holds no key")
        try:
            self._fernets = [Fernet(k.encode()) for k in keys]
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "HUB_SECRET_KEYS must hold Fernet keys (32 url-safe base64 bytes each); "
                "make one with `hub admin generate-secret-key`"
            ) from exc
        self._multi = MultiFernet(self._fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("stored secret does not decrypt with HUB_SECRET_KEYS") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the first key."""
        try:
            return self._multi.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("stored secret does not decrypt with HUB_SECRET_KEYS") from exc


def generate_key() -> str:
    return Fernet.generate_key().decode()
