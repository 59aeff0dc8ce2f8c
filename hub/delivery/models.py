"""The outbox: a delivery per (event, subscription), an attempt row per HTTP try."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, JSONType, UTCDateTime


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_subscription", "subscription_id", "status"),
        Index("ix_deliveries_tenant_created", "tenant_id", "created_at"),
        # A lane (one subscription's queue) is claimed oldest-due first.
        Index("ix_deliveries_lane", "subscription_id", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # also the webhook-id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(String(40))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    event_id: Mapped[str] = mapped_column(String(40), index=True)
    event_type: Mapped[str] = mapped_column(String(80))
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    # The sanitized, delivered body exactly as sent; purged after retention.
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    policy_version: Mapped[str] = mapped_column(String(80))
    # pending | retrying | delivered | dead | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
    # Who holds the in-flight lease: outcome writes are conditional on it, so a
    # worker whose lease expired (and was re-claimed) cannot overwrite the truth.
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Lowered below the schedule's length after a non-retriable answer (other 4xx).
    attempt_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The W3C traceparent of the request that created the delivery (hub/tracing.py), so
    # every attempt, in whichever worker, joins that trace. NULL when tracing is off.
    trace_parent: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    response_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Which replay of the delivery made this attempt (0 = before any replay):
    # a replay starts ``number`` from 1 again.
    replay: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
