"""Hub-wide secrets generated once and kept encrypted (e.g. the key-hashing pepper)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base


class HubSecret(Base):
    __tablename__ = "hub_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_encrypted: Mapped[str] = mapped_column(Text)
