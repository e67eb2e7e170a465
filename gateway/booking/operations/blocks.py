"""Block policies: K no-shows (or K citizen cancellations) in W days block booking for B days;
the cancellation that leaves a citizen one short of a block warns them.

The caller holds the citizen's row lock, so two strikes of one person never count past each
other. A block wipes the slate (`strikes_since`): the strikes that caused it never block again,
and neither do those before staff lifted a block.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, Connection, and_, func, select

from gateway.booking.domain import events
from gateway.booking.domain.errors import NotBlocked
from gateway.booking.domain.states import CITIZEN, BookingStatus
from gateway.booking.models import Booking
from gateway.booking.sql import citizens
from gateway.booking.sql.citizens import Standing
from gateway.booking.sql.events import record
from gateway.settings import BlockPolicy

BOOKINGS = Booking.__table__

# kind -> (when the strike happened, which bookings are strikes of that kind)
STRIKES: dict[str, tuple[ColumnElement[datetime | None], ColumnElement[bool]]] = {
    # An unconfirmed voice booking never strikes: a forged caller id must not block the owner.
    "no_show": (
        BOOKINGS.c.no_show_at,
        and_(BOOKINGS.c.status == BookingStatus.NO_SHOW, ~BOOKINGS.c.unconfirmed),
    ),
    # A rebook to another hospital cancels too, but the citizen did not give up the care.
    "cancellation": (
        BOOKINGS.c.cancelled_at,
        and_(
            BOOKINGS.c.status == BookingStatus.CANCELLED,
            BOOKINGS.c.cancelled_by == CITIZEN,
            BOOKINGS.c.rebooked_to.is_(None),
            ~BOOKINGS.c.unconfirmed,
        ),
    ),
}


def count_strikes(
    db: Connection, citizen: Standing, kind: str, window_days: int, now: datetime
) -> int:
    """How many strikes of `kind` the citizen has in the last `window_days` (since the slate)."""
    return _strikes(db, citizen, kind, window_days, now)[0]


def _strikes(
    db: Connection, citizen: Standing, kind: str, window_days: int, now: datetime
) -> tuple[int, datetime | None]:
    """The citizen's strikes of `kind` in the window (since the slate), and the oldest's time."""
    at, is_strike = STRIKES[kind]
    query = select(func.count(), func.min(at)).where(
        BOOKINGS.c.citizen_id == citizen.id,
        is_strike,
        at >= now - timedelta(days=window_days),
    )
    if citizen.strikes_since is not None:
        query = query.where(at > citizen.strikes_since)
    count, oldest = db.execute(query).one()
    return int(count or 0), oldest


def apply_policy(
    db: Connection, citizen_id: int, policy: BlockPolicy, kind: str, now: datetime
) -> bool:
    """Block the (locked) citizen for `policy.block_days` from now when the strikes reach the
    count."""
    if not policy.enabled or policy.block_days == 0:
        return False
    citizen = citizens.standing(db, citizen_id)
    count = count_strikes(db, citizen, kind, policy.window_days, now)
    if count < policy.count:
        return False
    until = now + timedelta(days=policy.block_days)
    if citizen.blocked_until is not None and citizen.blocked_until >= until:
        return False  # a longer block is already running
    citizens.set_block(db, citizen.id, until, strikes_since=now)
    event = events.citizen_blocked(
        citizen.id, phone=citizen.phone, until=until, because=kind, strikes=count
    )
    record(db, event, now)
    return True


def warn_if_near(
    db: Connection, citizen_id: int, policy: BlockPolicy, kind: str, now: datetime, tz: tzinfo
) -> bool:
    """Warn the (locked) citizen whose strikes just reached one short of a block: once per
    slate, as only the strike that makes the count exactly `count - 1` warns. The warning
    names the last day (in `tz`, the hospital's) before the oldest strike leaves the window."""
    if not policy.enabled or policy.block_days == 0 or policy.count < 2:
        return False
    citizen = citizens.standing(db, citizen_id)
    count, oldest = _strikes(db, citizen, kind, policy.window_days, now)
    if count != policy.count - 1 or oldest is None:
        return False
    before = (oldest + timedelta(days=policy.window_days)).astimezone(tz).date()
    event = events.citizen_block_warned(
        citizen.id, phone=citizen.phone, before=before, strikes=count, block_days=policy.block_days
    )
    record(db, event, now)
    return True


def lift(db: Connection, citizen_id: int, reason: str, now: datetime) -> None:
    """Lift the (locked) citizen's block (staff), or raise NotBlocked when there is none."""
    citizen = citizens.standing(db, citizen_id)
    was = citizen.blocked_until
    if was is None or was <= now:
        raise NotBlocked()
    citizens.set_block(db, citizen.id, None, strikes_since=now)
    event = events.citizen_unblocked(citizen.id, phone=citizen.phone, was_until=was, reason=reason)
    record(db, event, now)
