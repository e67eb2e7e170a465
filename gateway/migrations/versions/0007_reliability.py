"""reliability and data protection: dead-lettered events and inbound SMS, anonymised citizens

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN only (see 0006): it runs on a populated SQLite demo database too.
    op.add_column("events", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("events", sa.Column("last_error", sa.String(length=300), nullable=True))
    op.add_column("events", sa.Column("dead_at", sa.DateTime(), nullable=True))
    op.add_column("citizens", sa.Column("anonymised_at", sa.DateTime(), nullable=True))
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    # Dependants are found by their guardian (retention, export and erasure).
    op.create_index("ix_citizens_guardian_id", "citizens", ["guardian_id"])
    op.create_table(
        "inbound_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=80), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("dead_at", sa.DateTime(), nullable=False),
        sa.Column("retried_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_failures")),
        sa.UniqueConstraint(
            "provider",
            "provider_message_id",
            name=op.f("uq_inbound_failures_provider_provider_message_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("inbound_failures")
    op.drop_index("ix_citizens_guardian_id", table_name="citizens")
    op.drop_index("ix_messages_created_at", table_name="messages")
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_column("anonymised_at")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("dead_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
