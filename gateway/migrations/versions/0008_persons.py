"""families on one phone: dependants with birth years, hidden and moved persons

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN only (see 0006): it runs on a populated SQLite demo database too. Every
    # existing booking stays its holder's own ("Me"): a phone has no dependants until it adds.
    op.add_column("citizens", sa.Column("birth_year", sa.Integer(), nullable=True))
    op.add_column("citizens", sa.Column("hidden_at", sa.DateTime(), nullable=True))
    op.add_column("citizens", sa.Column("moved_to", sa.Integer(), nullable=True))
    op.add_column(
        "citizens",
        sa.Column("persons_added", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_column("persons_added")
        batch_op.drop_column("moved_to")
        batch_op.drop_column("hidden_at")
        batch_op.drop_column("birth_year")
