"""A tenant's configured connectors: one row per tenant and connector name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, JSONType, UTCDateTime


class TenantConnector(Base):
    __tablename__ = "tenant_connectors"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_tenant_connectors_name"),)

    # Also the unguessable part of the connector's inbound URL.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The configuration's non-secret fields; the secret ones are one Fernet token of
    # their JSON object (write-only through the API).
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
