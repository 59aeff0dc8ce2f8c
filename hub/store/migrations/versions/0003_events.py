"""events: the tables and columns of events, hooks and the sanitizer.

Adds the indexes ingest, subscribe and retention need:
- ``uq_subscriptions_live_identity``: one live subscription per (integration,
  event type, target URL), so concurrent identical subscribes cannot both insert;
- ``ix_events_retention`` / ``ix_deliveries_body_retention``: partial indexes over
  the payloads not yet purged, so the retention jobs never scan the whole table.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    live = sa.text("status <> 'deleted'")
    op.create_index(
        "uq_subscriptions_live_identity",
        "subscriptions",
        ["integration_id", "event_type", "target_url"],
        unique=True,
        postgresql_where=live,
        sqlite_where=live,
    )
    unpurged = sa.text("data IS NOT NULL")
    op.create_index(
        "ix_events_retention",
        "events",
        ["received_at"],
        postgresql_where=unpurged,
        sqlite_where=unpurged,
    )
    body_kept = sa.text("body IS NOT NULL")
    op.create_index(
        "ix_deliveries_body_retention",
        "deliveries",
        ["created_at"],
        postgresql_where=body_kept,
        sqlite_where=body_kept,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_body_retention", table_name="deliveries")
    op.drop_index("ix_events_retention", table_name="events")
    op.drop_index("uq_subscriptions_live_identity", table_name="subscriptions")
