"""security hardening: voice claims, kiosk key lifecycle, ID-hash key ids, one-time codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN everywhere: SQLite rebuilds a table for anything more, which fails on a
    # populated `bookings` while the vouchers' foreign keys point at it.
    op.add_column(
        "bookings",
        sa.Column("unconfirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("bookings", sa.Column("checked_in_kiosk_id", sa.Integer(), nullable=True))
    op.add_column("citizens", sa.Column("national_id_key", sa.String(length=8), nullable=True))
    op.add_column("kiosks", sa.Column("rotated_at", sa.DateTime(), nullable=True))
    op.add_column("kiosks", sa.Column("revoked_at", sa.DateTime(), nullable=True))
    op.create_table(
        "phone_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("passed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_challenges")),
    )
    op.create_index(
        "ix_phone_challenges_phone_created", "phone_challenges", ["phone", "created_at"]
    )
    # Unconfirmed voice claims are counted per hospital-day and found by the release sweep.
    op.create_index(
        "ix_bookings_unconfirmed_day",
        "bookings",
        ["day"],
        postgresql_where=sa.text("unconfirmed"),
        sqlite_where=sa.text("unconfirmed"),
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_unconfirmed_day", table_name="bookings")
    op.drop_index("ix_phone_challenges_phone_created", table_name="phone_challenges")
    op.drop_table("phone_challenges")
    with op.batch_alter_table("kiosks") as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("rotated_at")
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_column("national_id_key")
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.drop_column("checked_in_kiosk_id")
        batch_op.drop_column("unconfirmed")
