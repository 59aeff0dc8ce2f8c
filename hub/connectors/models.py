"""A tenant's configured connectors: one row per tenant and connector name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    # Set when the provider refused the credentials: no call is made until an admin
    # saves the configuration again (which clears it). Safe to show: no secret in it.
    failing_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboundMessage(Base):
    """A message a channel connector sends: recorded before the provider is called and
    after it answered, so a retry never sends twice; a deferred one waits here."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_due", "status", "send_after"),
        Index("ix_outbound_messages_provider_id", "tenant_id", "provider_message_id"),
        Index("ix_outbound_messages_recent", "tenant_id", "connector", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # msg_...
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(String(40))  # who asked (the action's)
    connector: Mapped[str] = mapped_column(String(40))
    # The action call's Idempotency-Key record: one message per key, whatever the retries.
    idempotency_id: Mapped[str] = mapped_column(String(64), unique=True)
    # scheduled | sending | sent | failed, then (e-mail) delivered | bounced | complained
    status: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    lead_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Suppression(Base):
    """An address a tenant's e-mail must not reach: it hard-bounced, complained, or an
    admin put it here. Cleared only by an admin."""

    __tablename__ = "suppressions"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower case
    reason: Mapped[str] = mapped_column(String(32))  # hard_bounce | complaint | manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
