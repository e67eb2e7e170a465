"""Progress marks of long periodic passes, kept in `sweep_runs`, and where a table reaches an
instant.

A pass over a big table (retention) works a bounded batch per round and must resume where it
stopped, on whichever worker runs next. Its mark is an instant: how far, in creation time, the
pass has got. A worker takes the mark's row lock for each batch, so one worker at a time works
a pass and the others go on to other work.

Ids and creation times rise together in this schema's tables, only ever out of step by the
length of one transaction (seconds: statement and idle-in-transaction timeouts bound them).
`first_id_at` finds by bisection on the primary key where a table reaches an instant, so a
pass over a table without an index on its creation time costs a few dozen primary-key probes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.booking.models import SweepRun

NEVER = datetime(2000, 1, 1, tzinfo=UTC)
# Bound on how far a row's creation time may run behind a row with a smaller id (the length
# of one transaction, with room to spare).
SKEW = timedelta(minutes=10)


def read_mark(session: Session, name: str) -> datetime:
    """How far the pass `name` has got (NEVER before its first batch), without a lock."""
    mark = session.scalar(select(SweepRun.last_run).where(SweepRun.name == name))
    return mark if mark is not None else NEVER


def take_mark(session: Session, name: str) -> datetime | None:
    """How far the pass `name` has got, its row locked until the caller's commit so that one
    worker at a time works the pass; None while another worker holds it (it is on the pass).

    Taken before any work, so a worker that finds the pass busy does nothing rather than work
    that would be thrown away."""
    locked = (
        select(SweepRun.last_run).where(SweepRun.name == name).with_for_update(skip_locked=True)
    )
    mark = session.scalar(locked)
    if mark is None and session.scalar(select(SweepRun.name).where(SweepRun.name == name)) is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(SweepRun).values(name=name, last_run=NEVER).on_conflict_do_nothing()
        )
        mark = session.scalar(locked)
    return mark


def set_mark(session: Session, name: str, to: datetime) -> None:
    """Move the mark `name` (taken with `take_mark` in this transaction) to `to`."""
    session.execute(
        update(SweepRun)
        .where(SweepRun.name == name)
        .values(last_run=to)
        .execution_options(synchronize_session=False)
    )


def first_id_at(
    session: Session,
    id_column: InstrumentedAttribute[int],
    created: InstrumentedAttribute[datetime],
    instant: datetime,
) -> int:
    """An id below every row created at or after `instant`: a pass over `id > answer` misses
    none of them. Found by bisection on the primary key, aiming SKEW early: a probe row made
    before `instant - SKEW` has, by the bound on SKEW, no row made after `instant` below it.
    """
    low = session.scalar(select(func.min(id_column))) or 0
    high = session.scalar(select(func.max(id_column))) or 0
    target = instant - SKEW
    while low < high:
        middle = (low + high) // 2
        row = session.execute(
            select(id_column, created).where(id_column >= middle).order_by(id_column).limit(1)
        ).one()
        if row[1] < target:
            low = row[0] + 1
        else:
            high = middle
    return max(low - 1, 0)
