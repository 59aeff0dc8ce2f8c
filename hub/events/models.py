"""Events as the producer published them (raw ``data`` is purged after retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.delivery.models import Delivery
from hub.store.base import Base, JSONType, UTCDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # The producer's id is deduplicated per tenant forever.
        UniqueConstraint("tenant_id", "producer_id", name="uq_events_tenant_producer"),
        Index("ix_events_tenant_type_received", "tenant_id", "type", "received_at"),
        # What the retention job scans: only payloads not yet purged (0003).
        Index(
            "ix_events_retention",
            "received_at",
            postgresql_where=text("data IS NOT NULL"),
            sqlite_where=text("data IS NOT NULL"),
        ),
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


# The delivery-body retention job's index on ``deliveries`` (created by migration
# 0003, which owns retention). Declared here so the metadata matches the schema
# without touching the delivery capability's model.
Index(
    "ix_deliveries_body_retention",
    Delivery.__table__.c.created_at,
    postgresql_where=text("body IS NOT NULL"),
    sqlite_where=text("body IS NOT NULL"),
)
