"""What the booking core's statements run on.

The operations run Core statements on a Connection: an ORM Session costs several times the
CPU of the statement itself here. The ORM's own units of work (catalogue loading, the privacy
passes, the read models) pass their Session where an sql/ primitive takes an Executor; a
Session flushes its pending objects before such a statement runs, a Connection has none.
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy import Connection
from sqlalchemy.orm import Session

Executor: TypeAlias = Session | Connection


def dialect_name(db: Executor) -> str:
    bind = db.get_bind() if isinstance(db, Session) else db
    return bind.dialect.name
