"""Citizens: created on first contact, locked first in every use case, per-person limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.booking.errors import Blocked, DepartmentSameDay, LimitPerDay
from gateway.booking.models import Booking, Citizen
from gateway.settings import BookingRules

ACTIVE = ("confirmed", "checked_in")


def lock_citizen(session: Session, phone: str, now: datetime) -> Citizen:
    """Return the phone's holder, creating them on first contact, with the row locked.

    The citizen row is always locked before any slot, so two requests of one person serialise
    here and the per-person rules below see each other's bookings.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(Citizen)
        .values(phone=phone, created_at=now, reminders_opt_out=False)
        .on_conflict_do_nothing(index_elements=["phone"], index_where=Citizen.guardian_id.is_(None))
    )
    return session.scalars(
        select(Citizen)
        .where(Citizen.phone == phone, Citizen.guardian_id.is_(None))
        .with_for_update()
    ).one()


def find_citizen(session: Session, phone: str) -> Citizen | None:
    return session.scalars(
        select(Citizen).where(Citizen.phone == phone, Citizen.guardian_id.is_(None))
    ).one_or_none()


def check_not_blocked(citizen: Citizen, now: datetime, tz: tzinfo = UTC) -> None:
    """Refuse a blocked citizen, naming the block's last day in the hospital's own calendar."""
    if citizen.blocked_until is not None and citizen.blocked_until > now:
        raise Blocked(until=citizen.blocked_until.astimezone(tz).date())


def check_person_limits(
    session: Session,
    citizen: Citizen,
    day: date,
    department_id: int,
    rules: BookingRules,
    exclude_booking: int | None = None,
) -> None:
    """Raise when one more booking on `day` would pass the per-day or per-department limit."""
    base = (
        select(func.count())
        .select_from(Booking)
        .where(Booking.citizen_id == citizen.id, Booking.day == day, Booking.status.in_(ACTIVE))
    )
    if exclude_booking is not None:
        base = base.where(Booking.id != exclude_booking)
    if session.scalar(base) >= rules.max_per_day:
        raise LimitPerDay(limit=rules.max_per_day)
    same_department = base.where(Booking.department_id == department_id)
    if session.scalar(same_department) >= rules.max_per_department_day:
        raise DepartmentSameDay()
