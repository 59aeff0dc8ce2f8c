"""Events as the producer published them (raw ``data`` is purged after retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, JSONType, UTCDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # The producer's id is deduplicated per tenant forever.
        UniqueConstraint("tenant_id", "producer_id", name="uq_events_tenant_producer"),
        Index("ix_events_tenant_type_received", "tenant_id", "type", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(String(40))  # the publisher
    producer_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(80))
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
