"""connectors: each tenant's configured connectors and the messages channel
connectors send (hub/connectors).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_connectors",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("secrets_encrypted", sa.Text(), nullable=True),
        sa.Column("failing_reason", sa.String(length=300), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_connectors_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_connectors")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_tenant_connectors_name"),
    )
    with op.batch_alter_table("tenant_connectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenant_connectors_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("connector", sa.String(length=40), nullable=False),
        sa.Column("idempotency_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("lead_id", sa.String(length=128), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outbound_messages_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("idempotency_id", name=op.f("uq_outbound_messages_idempotency_id")),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_messages_due", ["status", "send_after"], unique=False)
        batch_op.create_index(
            "ix_outbound_messages_provider_id", ["tenant_id", "provider_message_id"], unique=False
        )
        batch_op.create_index(
            "ix_outbound_messages_recent", ["tenant_id", "connector", "created_at"], unique=False
        )
    op.create_table(
        "suppressions",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_suppressions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "address", name=op.f("pk_suppressions")),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_messages_recent")
        batch_op.drop_index("ix_outbound_messages_provider_id")
        batch_op.drop_index("ix_outbound_messages_due")
    op.drop_table("outbound_messages")
    with op.batch_alter_table("tenant_connectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenant_connectors_tenant_id"))
    op.drop_table("tenant_connectors")
