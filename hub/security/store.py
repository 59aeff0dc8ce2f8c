"""Load (or create once) the installation's hub-wide secrets (the key-hashing pepper)."""

from __future__ import annotations

import os

from sqlalchemy.exc import IntegrityError

from hub.security.encryption import Vault
from hub.security.hashing import SecretHasher
from hub.security.models import HubSecret
from hub.store.engine import Database

PEPPER = "key_hash_pepper"


async def load_hasher(db: Database, vault: Vault) -> SecretHasher:
    async with db.transaction() as session:
        row = await session.get(HubSecret, PEPPER)
        if row is not None:
            return SecretHasher(bytes.fromhex(vault.decrypt(row.value_encrypted)))
    pepper = os.urandom(32)
    try:
        async with db.transaction() as session:
            session.add(HubSecret(name=PEPPER, value_encrypted=vault.encrypt(pepper.hex())))
    except IntegrityError:
        # Another process created it first: use theirs.
        async with db.session() as session:
            existing = await session.get(HubSecret, PEPPER)
            assert existing is not None
            return SecretHasher(bytes.fromhex(vault.decrypt(existing.value_encrypted)))
    return SecretHasher(pepper)
