"""Idempotency records (the arbiter of "run once") and executions (what ran, how it ended).

One record per (integration, Idempotency-Key) while its window lasts. ``attempt`` is
a fencing token: every takeover increments it, and a request only completes or
releases the record while the attempt it claimed is still the current one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, UTCDateTime


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("integration_id", "key", name="uq_idempotency_records_integration_key"),
        Index("ix_idempotency_records_expires_at", "expires_at"),
        Index("ix_idempotency_records_execution_id", "execution_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id"))
    key: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))  # hex SHA-256
    state: Mapped[str] = mapped_column(String(16))  # running | completed | released
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # The execution running now (state running) or whose answer is stored (completed).
    execution_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Execution(Base):
    """One run of an action's handler (validation failures never reach a handler)."""

    __tablename__ = "executions"
    __table_args__ = (
        # Lists page by id (time-ordered) within a tenant or an integration.
        Index("ix_executions_tenant_id_id", "tenant_id", "id"),
        Index("ix_executions_integration_id_id", "integration_id", "id"),
        Index("ix_executions_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id"))
    action: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))  # live | sandbox
    handler: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # succeeded | rejected | failed
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    http_status: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
    correlation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
