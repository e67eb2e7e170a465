"""Check-in: validate a T-code at the kiosk (or a reference at the desk), give a queue number.

Kiosk and desk share one counter per department and day, so queue numbers follow arrival
order whichever way a citizen checks in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from gateway.booking.errors import NotFound
from gateway.booking.events import record
from gateway.booking.models import Booking, Department, QueueCounter, Slot, Voucher
from gateway.booking.rules import checkin_window
from gateway.booking.vouchers import live_voucher
from gateway.settings import BookingSettings


@dataclass(frozen=True)
class Ticket:
    queue_number: int | None
    hospital: str
    department: str
    room: str | None
    doctor: str | None
    starts_at: datetime
    checked_in_at: datetime | None


class CheckInRefused(Exception):
    """A voucher that cannot check in now; `status` is the kiosk's stable code."""

    def __init__(self, status: str, **facts: object):
        self.status, self.facts = status, facts
        super().__init__(status)


REFUSED_STATES = {"cancelled": "cancelled", "replaced": "replaced", "expired": "expired"}


def check_in(
    session: Session,
    booking_rules: BookingSettings,
    tcode: str,
    hospital_code: str,
    now: datetime,
    dry_run: bool = False,
) -> Ticket:
    """Check the voucher in (or, with dry_run, only validate it) and return the ticket."""
    voucher = _voucher(session, tcode, lock=not dry_run)
    booking = voucher.booking
    slot = booking.slot
    hospital = slot.department.hospital
    if voucher.state in REFUSED_STATES:
        raise CheckInRefused(REFUSED_STATES[voucher.state])
    if hospital.code != hospital_code:
        raise CheckInRefused(
            "wrong_hospital",
            hospital=hospital.name,
            starts_at=slot.starts_at.astimezone(ZoneInfo(hospital.timezone)),
        )
    if booking.status == "checked_in" or voucher.state == "used":
        ticket = ticket_of(booking)
        raise CheckInRefused(
            "already_checked_in", ticket=ticket, checked_in_at=ticket.checked_in_at
        )
    if booking.status != "confirmed":
        raise CheckInRefused("cancelled" if booking.status == "cancelled" else "expired")
    _check_time(slot, booking_rules, hospital.code, ZoneInfo(hospital.timezone), now)
    if dry_run:
        return ticket_of(booking)
    return _admit(session, booking, voucher, now, "kiosk")


def desk_check_in(session: Session, ref: str, now: datetime) -> Ticket:
    """Check booking `ref` in at the hospital desk.

    Staff are the human override of the kiosk's time window (a late arrival, a lost phone), so
    only the day and the booking's state are checked here.
    """
    # Lock the booking row alone, then read it with its slot: the state seen is the latest.
    booking_id = session.scalar(select(Booking.id).where(Booking.ref == ref).with_for_update())
    if booking_id is None:
        raise NotFound(what="booking")
    booking = session.scalars(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(
            joinedload(Booking.slot).joinedload(Slot.department).joinedload(Department.hospital)
        )
    ).one()
    slot = booking.slot
    tz = ZoneInfo(slot.department.hospital.timezone)
    if booking.status == "checked_in":
        ticket = ticket_of(booking)
        raise CheckInRefused(
            "already_checked_in", ticket=ticket, checked_in_at=ticket.checked_in_at
        )
    if booking.status != "confirmed":
        raise CheckInRefused("cancelled" if booking.status == "cancelled" else "expired")
    if now.astimezone(tz).date() != slot.day:
        raise CheckInRefused("wrong_day", day=slot.day, starts_at=slot.starts_at.astimezone(tz))
    return _admit(session, booking, live_voucher(booking), now, "desk")


def _admit(
    session: Session, booking: Booking, voucher: Voucher | None, now: datetime, where: str
) -> Ticket:
    """Give the next queue number of the department's day and mark the booking checked in."""
    slot = booking.slot
    booking.queue_number = _next_queue_number(session, slot.department_id, slot.day)
    booking.status, booking.checked_in_at = "checked_in", now
    if voucher is not None:
        voucher.state, voucher.changed_at = "used", now
    record(
        session,
        "booking.checked_in",
        booking.ref,
        now,
        booking_id=booking.id,
        queue_number=booking.queue_number,
        at=where,
    )
    return ticket_of(booking)


def _voucher(session: Session, tcode: str, lock: bool) -> Voucher:
    query = (
        select(Voucher)
        .where(Voucher.tcode == tcode)
        .options(
            joinedload(Voucher.booking)
            .joinedload(Booking.slot)
            .joinedload(Slot.department)
            .joinedload(Department.hospital)
        )
    )
    voucher = session.scalars(query).unique().one_or_none()
    if voucher is None:
        raise CheckInRefused("unknown_code")
    if lock:  # lock only the booking row: the joined rows are read-only here
        session.execute(
            select(Booking.id).where(Booking.id == voucher.booking_id).with_for_update()
        )
        session.refresh(voucher.booking)
        session.refresh(voucher)
    return voucher


def _check_time(
    slot: Slot, booking_rules: BookingSettings, hospital_code: str, tz: ZoneInfo, now: datetime
) -> None:
    opens, closes = checkin_window(slot.starts_at, booking_rules.rules_for(hospital_code))
    starts_at = slot.starts_at.astimezone(tz)  # facts are hospital-local, ready to show
    if now.astimezone(tz).date() != slot.day:
        raise CheckInRefused("wrong_day", day=slot.day, starts_at=starts_at)
    if now < opens:
        raise CheckInRefused("too_early", opens_at=opens.astimezone(tz), starts_at=starts_at)
    if now > closes:
        raise CheckInRefused("too_late", starts_at=starts_at)


def _next_queue_number(session: Session, department_id: int, day: date) -> int:
    """Bump the department's counter for the day atomically and return the new number."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(QueueCounter)
        .values(department_id=department_id, day=day, last_number=0)
        .on_conflict_do_nothing()
    )
    return session.execute(
        update(QueueCounter)
        .where(QueueCounter.department_id == department_id, QueueCounter.day == day)
        .values(last_number=QueueCounter.last_number + 1)
        .returning(QueueCounter.last_number)
    ).scalar_one()


def ticket_of(booking: Booking) -> Ticket:
    slot = booking.slot
    dept = slot.department
    tz = ZoneInfo(dept.hospital.timezone)
    return Ticket(
        queue_number=booking.queue_number,
        hospital=dept.hospital.name,
        department=dept.name,
        room=dept.room,
        doctor=slot.doctor.name if slot.doctor else None,
        starts_at=slot.starts_at.astimezone(tz),
        checked_in_at=booking.checked_in_at.astimezone(tz) if booking.checked_in_at else None,
    )
