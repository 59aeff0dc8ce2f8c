"""REST-hook subscriptions and their signing secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_fanout", "tenant_id", "event_type", "status"),
        Index("ix_subscriptions_identity", "integration_id", "event_type", "target_url"),
        # One live subscription per (integration, event, target): concurrent
        # identical subscribes (Zapier retries) cannot create two (0003).
        Index(
            "uq_subscriptions_live_identity",
            "integration_id",
            "event_type",
            "target_url",
            unique=True,
            postgresql_where=text("status <> 'deleted'"),
            sqlite_where=text("status <> 'deleted'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id"))
    event_type: Mapped[str] = mapped_column(String(80))
    target_url: Mapped[str] = mapped_column(String(2048))
    # active | paused | disabled | deleted. Rows are kept after deletion so
    # deliveries keep their history and a replay can say why it is refused.
    status: Mapped[str] = mapped_column(String(16), default="active")
    sandbox: Mapped[bool] = mapped_column(default=False)
    rate_per_second: Mapped[float] = mapped_column(Float, default=20.0)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SubscriptionSecret(Base):
    """A ``whsec_`` secret; several are live while a rotation's grace period runs."""

    __tablename__ = "subscription_secrets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
