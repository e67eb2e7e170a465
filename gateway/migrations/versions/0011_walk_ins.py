"""walk-ins: the desk's walk-ins counted on each slot, and the database's guard that walk-ins
and remote places together never pass the slot's capacity

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Named as the models' naming convention names them (ck_<table>_<name>).
NOT_NEGATIVE = ("ck_slots_walk_in_not_negative", "walk_in_taken >= 0")
WITHIN_CAPACITY = ("ck_slots_within_capacity", "walk_in_taken + remote_taken <= capacity")
CHECKS = (NOT_NEGATIVE, WITHIN_CAPACITY)


def upgrade() -> None:
    # The server default fills every existing slot with 0 walk-ins, which passes both checks,
    # and web processes of the release before, which never write the column, keep working
    # during a rolling upgrade.
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a CHECK only with its column: anything more rebuilds `slots`, which fails
        # on a populated database while the bookings' and holds' foreign keys point at it.
        checks = " ".join(f"CONSTRAINT {name} CHECK ({rule})" for name, rule in CHECKS)
        op.execute(
            f"ALTER TABLE slots ADD COLUMN walk_in_taken INTEGER NOT NULL DEFAULT 0 {checks}"
        )
        return
    op.add_column(
        "slots", sa.Column("walk_in_taken", sa.Integer(), nullable=False, server_default="0")
    )
    for name, rule in CHECKS:
        op.create_check_constraint(op.f(name), "slots", rule)


def downgrade() -> None:
    # On SQLite the checks belong to the column and go with it (DROP COLUMN, SQLite 3.35+).
    if op.get_bind().dialect.name != "sqlite":
        for name, _ in CHECKS:
            op.drop_constraint(op.f(name), "slots", type_="check")
    op.drop_column("slots", "walk_in_taken")
