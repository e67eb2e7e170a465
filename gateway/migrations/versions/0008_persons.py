"""families on one phone: dependants with birth years, hidden and moved persons, and moves
asked for by SMS

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
    _create_person_moves()


def _create_person_moves() -> None:
    op.create_table(
        "person_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("new_phone", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["citizens.id"], name=op.f("fk_person_moves_person_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["citizens.id"], name=op.f("fk_person_moves_guardian_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_moves")),
    )
    pending = sa.text("done_at IS NULL AND cancelled_at IS NULL")
    op.create_index(
        "uq_person_moves_pending",
        "person_moves",
        ["person_id"],
        unique=True,
        sqlite_where=pending,
        postgresql_where=pending,
    )
    op.create_index(
        "ix_person_moves_guardian_created", "person_moves", ["guardian_id", "created_at"]
    )
    op.create_index(
        "ix_person_moves_new_phone_created", "person_moves", ["new_phone", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_person_moves_new_phone_created", table_name="person_moves")
    op.drop_index("ix_person_moves_guardian_created", table_name="person_moves")
    op.drop_index("uq_person_moves_pending", table_name="person_moves")
    op.drop_table("person_moves")
    with op.batch_alter_table("citizens") as batch_op:
        batch_op.drop_column("persons_added")
        batch_op.drop_column("moved_to")
        batch_op.drop_column("hidden_at")
        batch_op.drop_column("birth_year")
