"""names in the citizen's language: translated names of cities, hospitals and departments, and
the short name SMS use for a hospital

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMED = ("cities", "hospitals", "departments")
# JSONB on PostgreSQL, as the models say: rows holding it can be compared.
_NAMES = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Plain nullable ADD COLUMN only (see 0006): it runs on a populated SQLite demo database,
    # and web processes of the release before, which never read these columns, keep working
    # during a rolling upgrade. Existing rows have no translations: they read their name, and
    # SMS shorten it, until the next catalogue load fills them.
    for table in _NAMED:
        op.add_column(table, sa.Column("names", _NAMES, nullable=True))
        op.add_column(table, sa.Column("names_gsm", _NAMES, nullable=True))
    op.add_column("hospitals", sa.Column("sms_name", sa.String(length=16), nullable=True))
    op.add_column("hospitals", sa.Column("sms_names", _NAMES, nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later have it): a batch copy of `hospitals` would
    # trip the foreign keys of a populated database's departments.
    op.drop_column("hospitals", "sms_names")
    op.drop_column("hospitals", "sms_name")
    for table in _NAMED:
        op.drop_column(table, "names_gsm")
        op.drop_column(table, "names")
