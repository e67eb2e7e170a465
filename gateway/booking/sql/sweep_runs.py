"""Daily runs of periodic work (`sweep_runs`): which worker does today's run of a job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.booking.models import SweepRun
from gateway.booking.sql import transitions
from gateway.booking.sql.executor import Executor, dialect_name
from gateway.booking.sql.marks import NEVER


def claim_daily_run(db: Executor, name: str, day_starts: datetime, now: datetime) -> bool:
    """Claim today's run of `name`: True for exactly one caller per day.

    The claim holds the row's lock until the caller's commit; a second worker's UPDATE waits,
    then finds the run already done today. A rollback gives the day's run back.
    """
    runs = SweepRun.__table__
    dialect = postgresql if dialect_name(db) == "postgresql" else sqlite
    db.execute(dialect.insert(runs).values(name=name, last_run=NEVER).on_conflict_do_nothing())
    return transitions.changed(
        db,
        update(runs).where(runs.c.name == name, runs.c.last_run < day_starts).values(last_run=now),
    )
