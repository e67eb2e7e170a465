"""Block policies: K no-shows (or K citizen cancellations) in W days block booking for B days.

The caller holds the citizen's row lock, so two strikes of one person never count past each
other. A block wipes the slate (`strikes_since`): the strikes that caused it never block again,
and neither do those before staff lifted a block.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.booking.domain.errors import NotBlocked
from gateway.booking.models import Booking, Citizen
from gateway.booking.sql.events import record
from gateway.settings import BlockPolicy

# kind -> (when the strike happened, which bookings are strikes of that kind)
STRIKES: dict[str, tuple[InstrumentedAttribute[datetime | None], ColumnElement[bool]]] = {
    # An unconfirmed voice booking never strikes: a forged caller id must not block the owner.
    "no_show": (Booking.no_show_at, and_(Booking.status == "no_show", ~Booking.unconfirmed)),
    # A rebook to another hospital cancels too, but the citizen did not give up the care.
    "cancellation": (
        Booking.cancelled_at,
        and_(
            Booking.status == "cancelled",
            Booking.cancelled_by == "citizen",
            Booking.rebooked_to.is_(None),
            ~Booking.unconfirmed,
        ),
    ),
}


def count_strikes(
    session: Session, citizen: Citizen, kind: str, window_days: int, now: datetime
) -> int:
    """How many strikes of `kind` the citizen has in the last `window_days` (since the slate)."""
    at, is_strike = STRIKES[kind]
    query = (
        select(func.count())
        .select_from(Booking)
        .where(Booking.citizen_id == citizen.id, is_strike, at >= now - timedelta(days=window_days))
    )
    if citizen.strikes_since is not None:
        query = query.where(at > citizen.strikes_since)
    return int(session.scalar(query) or 0)


def apply_policy(
    session: Session, citizen: Citizen, policy: BlockPolicy, kind: str, now: datetime
) -> bool:
    """Block the citizen for `policy.block_days` from now when the strikes reach the count."""
    if not policy.enabled or policy.block_days == 0:
        return False
    count = count_strikes(session, citizen, kind, policy.window_days, now)
    if count < policy.count:
        return False
    until = now + timedelta(days=policy.block_days)
    if citizen.blocked_until is not None and citizen.blocked_until >= until:
        return False  # a longer block is already running
    citizen.blocked_until, citizen.strikes_since = until, now
    record(
        session,
        "citizen.blocked",
        citizen.id,
        now,
        citizen_id=citizen.id,
        phone=citizen.phone,
        until=until.isoformat(),
        because=kind,
        strikes=count,
    )
    return True


def lift(session: Session, citizen: Citizen, reason: str, now: datetime) -> None:
    """Lift the citizen's block (staff), or raise NotBlocked when there is none."""
    if citizen.blocked_until is None or citizen.blocked_until <= now:
        raise NotBlocked()
    was = citizen.blocked_until
    citizen.blocked_until, citizen.strikes_since = None, now
    record(
        session,
        "citizen.unblocked",
        citizen.id,
        now,
        citizen_id=citizen.id,
        phone=citizen.phone,
        was_until=was.isoformat(),
        reason=reason[:200],
    )
