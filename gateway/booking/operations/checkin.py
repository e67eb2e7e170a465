"""Check-in: validate a T-code at the kiosk (or a reference at the desk), give a queue number.

Kiosk and desk share one counter per department and day, so queue numbers follow arrival
order whichever way a citizen checks in.

A kiosk scan is the hot path: one read decides it (a refusal or a rescan writes nothing), then
one short transaction of conditional updates checks it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql import ClauseElement

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.rules import checkin_window
from gateway.booking.models import Booking, Department, Doctor, QueueCounter, Slot, Voucher
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.events import record
from gateway.booking.sql.executor import Executor, dialect_name
from gateway.booking.sql.vouchers import live_voucher
from gateway.settings import BookingRules, BookingSettings

VOUCHERS, BOOKINGS, SLOTS = Voucher.__table__, Booking.__table__, Slot.__table__
DOCTORS, COUNTERS = Doctor.__table__, QueueCounter.__table__


@dataclass(frozen=True)
class Ticket:
    """What a queue ticket shows. A sensitive department's name is never on it (DESIGN §4):
    a ticket is shown in a public hall and printed on paper people drop, so it says only
    `sensitive` and the room, and the edges print "your clinic" instead of the name."""

    queue_number: int | None
    hospital: str
    department: str | None  # None: a sensitive department
    room: str | None
    doctor: str | None
    starts_at: datetime
    checked_in_at: datetime | None
    sensitive: bool = False


class CheckInRefused(Exception):
    """A voucher that cannot check in now; `status` is the kiosk's stable code."""

    def __init__(self, status: str, **facts: object):
        self.status, self.facts = status, facts
        super().__init__(status)


REFUSED_STATES = {"cancelled": "cancelled", "replaced": "replaced", "expired": "expired"}


@dataclass(frozen=True)
class Scan:
    """One statement's read of a voucher, its booking and slot: all a kiosk scan decides on."""

    voucher_id: int
    voucher_state: str
    booking_id: int
    ref: str
    status: str
    slot_id: int
    queue_number: int | None
    checked_in_at: datetime | None
    department_id: int
    day: date
    starts_at: datetime
    doctor: str | None


_SCAN = DriverStatement(
    select(
        VOUCHERS.c.id,
        VOUCHERS.c.state,
        BOOKINGS.c.id,
        BOOKINGS.c.ref,
        BOOKINGS.c.status,
        BOOKINGS.c.slot_id,
        BOOKINGS.c.queue_number,
        BOOKINGS.c.checked_in_at,
        SLOTS.c.department_id,
        SLOTS.c.day,
        SLOTS.c.starts_at,
        DOCTORS.c.name,
    )
    .join(BOOKINGS, BOOKINGS.c.id == VOUCHERS.c.booking_id)
    .join(SLOTS, SLOTS.c.id == BOOKINGS.c.slot_id)
    .outerjoin(DOCTORS, DOCTORS.c.id == SLOTS.c.doctor_id)
    .where(VOUCHERS.c.tcode == bindparam("tcode"))
)
# Conditional: a cancel, rebook or second kiosk that got there first makes them match nothing,
# and the scan is decided again on what is there now.
_MARK_BOOKING = DriverStatement(
    update(BOOKINGS)
    .where(
        BOOKINGS.c.id == bindparam("booking_id"),
        BOOKINGS.c.status == "confirmed",
        BOOKINGS.c.slot_id == bindparam("seen_slot_id"),
    )
    .values(
        status="checked_in",
        checked_in_at=bindparam("now"),
        queue_number=bindparam("number"),
        checked_in_kiosk_id=bindparam("kiosk_id"),
        # Showing up in person with the voucher is the owner's confirmation of a voice booking.
        unconfirmed=False,
    )
)
_MARK_VOUCHER = DriverStatement(
    update(VOUCHERS)
    .where(VOUCHERS.c.id == bindparam("voucher_id"), VOUCHERS.c.state == "issued")
    .values(state="used", changed_at=bindparam("now"))
)


class Changed(Exception):
    """The voucher or booking changed between the scan's read and its write: read again."""


def scan(db: Executor, tcode: str) -> Scan:
    row = _SCAN.run(db, {"tcode": tcode}).first()
    if row is None:
        raise CheckInRefused("unknown_code")
    return Scan(*row)


def validate(
    seen: Scan,
    dept: DepartmentInfo,
    booking_rules: BookingSettings,
    hospital_code: str,
    now: datetime,
) -> Ticket:
    """Raise the refusal a kiosk answers for this voucher now; else the ticket it would get."""
    tz = dept.timezone
    if seen.voucher_state in REFUSED_STATES:
        raise CheckInRefused(REFUSED_STATES[seen.voucher_state])
    if dept.hospital_code != hospital_code:
        raise CheckInRefused(
            "wrong_hospital", hospital=dept.hospital_name, starts_at=seen.starts_at.astimezone(tz)
        )
    ticket = _ticket(seen, dept, seen.queue_number, seen.checked_in_at)
    if seen.status == "checked_in" or seen.voucher_state == "used":
        raise CheckInRefused(
            "already_checked_in", ticket=ticket, checked_in_at=ticket.checked_in_at
        )
    if seen.status != "confirmed":
        raise CheckInRefused("cancelled" if seen.status == "cancelled" else "expired")
    rules = booking_rules.rules_for(hospital_code)
    check_time(seen.starts_at, seen.day, rules, tz, now)
    return ticket


def admit_scanned(
    db: Executor, seen: Scan, dept: DepartmentInfo, now: datetime, kiosk_id: int | None = None
) -> Ticket:
    """Check a validated scan in: queue number, booking and voucher marked, one event.

    `kiosk_id` names the kiosk that scanned it, on the booking and in the event. Raises
    Changed (the caller rolls back and scans again) if either row moved since the read.
    """
    number = next_queue_number(db, seen.department_id, seen.day)
    params = {
        "booking_id": seen.booking_id,
        "seen_slot_id": seen.slot_id,
        "voucher_id": seen.voucher_id,
        "now": now,
        "number": number,
        "kiosk_id": kiosk_id,
    }
    if not _MARK_BOOKING.run(db, params).rowcount:
        raise Changed()
    if not _MARK_VOUCHER.run(db, params).rowcount:
        raise Changed()
    record(
        db,
        "booking.checked_in",
        seen.ref,
        now,
        booking_id=seen.booking_id,
        queue_number=number,
        at="kiosk",
        kiosk_id=kiosk_id,
    )
    return _ticket(seen, dept, number, now)


def _ticket(
    seen: Scan, dept: DepartmentInfo, number: int | None, checked_in_at: datetime | None
) -> Ticket:
    tz = dept.timezone
    return Ticket(
        queue_number=number,
        hospital=dept.hospital_name,
        department=None if dept.sensitive else dept.name,
        room=dept.room,
        doctor=seen.doctor,
        starts_at=seen.starts_at.astimezone(tz),
        checked_in_at=checked_in_at.astimezone(tz) if checked_in_at else None,
        sensitive=dept.sensitive,
    )


def desk_check_in(
    session: Session, ref: str, now: datetime, rules: BookingSettings | None = None
) -> Ticket:
    """Check booking `ref` in at the hospital desk.

    Staff are the human override of the kiosk's time window (a late arrival, a lost phone), so
    only the day (`check_desk_day`, under the hospital's `rules`) and the booking's state are
    checked here.
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
    hospital_rules = rules.rules_for(slot.department.hospital.code) if rules else None
    check_desk_day(slot.starts_at, slot.day, hospital_rules, tz, now)
    return _admit(session, booking, live_voucher(booking), now, "desk")


def _admit(
    session: Session, booking: Booking, voucher: Voucher | None, now: datetime, where: str
) -> Ticket:
    """Give the next queue number of the department's day and mark the booking checked in."""
    slot = booking.slot
    booking.queue_number = next_queue_number(session, slot.department_id, slot.day)
    booking.status, booking.checked_in_at = "checked_in", now
    booking.unconfirmed = False  # the owner came in person: a voice booking is theirs now
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


def check_time(
    starts_at: datetime, day: date, rules: BookingRules, tz: ZoneInfo, now: datetime
) -> None:
    """Raise the kiosk's refusal unless `now` is inside the slot's check-in window.

    The window decides first, whatever the date: a 00:15 slot's window opens at 22:15 the
    evening before, and a 23:45 slot's grace runs past midnight. Outside it, the refusal says
    what to do today: come back at the opening (`too_early`) or go to reception (`too_late`)
    when the window opens or closes today, else come back on the slot's day (`wrong_day`).
    """
    opens, closes = checkin_window(starts_at, rules)
    if opens <= now <= closes:
        return
    local_start = starts_at.astimezone(tz)  # facts are hospital-local, ready to show
    today = now.astimezone(tz).date()
    if now < opens and opens.astimezone(tz).date() == today:
        raise CheckInRefused("too_early", opens_at=opens.astimezone(tz), starts_at=local_start)
    if now > closes and closes.astimezone(tz).date() == today:
        raise CheckInRefused("too_late", starts_at=local_start)
    raise CheckInRefused("wrong_day", day=day, starts_at=local_start)


def check_desk_day(
    starts_at: datetime, day: date, rules: BookingRules | None, tz: ZoneInfo, now: datetime
) -> None:
    """Raise `wrong_day` unless `now` is on the slot's day or inside its check-in window.

    Staff are the human override of the window's edges (a late arrival, a lost phone), so any
    time of the slot's day will do; the window itself counts too when it crosses midnight.
    Without `rules` (a caller that knows none) the day alone counts.
    """
    if now.astimezone(tz).date() == day:
        return
    if rules is not None:
        opens, closes = checkin_window(starts_at, rules)
        if opens <= now <= closes:
            return
    raise CheckInRefused("wrong_day", day=day, starts_at=starts_at.astimezone(tz))


def _bump(dialect: str) -> ClauseElement:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(COUNTERS)
    return (
        insert.values(department_id=bindparam("department_id"), day=bindparam("day"), last_number=1)
        .on_conflict_do_update(
            index_elements=[COUNTERS.c.department_id, COUNTERS.c.day],
            set_={"last_number": COUNTERS.c.last_number + 1},
        )
        .returning(COUNTERS.c.last_number)
    )


_BUMPS = {name: DriverStatement(_bump(name)) for name in ("postgresql", "sqlite")}


def next_queue_number(db: Executor, department_id: int, day: date) -> int:
    """Bump the department's counter for the day atomically and return the new number."""
    params = {"department_id": department_id, "day": day}
    return int(_BUMPS[dialect_name(db)].run(db, params).scalar_one())


def ticket_of(booking: Booking) -> Ticket:
    slot = booking.slot
    dept = slot.department
    tz = ZoneInfo(dept.hospital.timezone)
    return Ticket(
        queue_number=booking.queue_number,
        hospital=dept.hospital.name,
        department=None if dept.sensitive else dept.name,
        room=dept.room,
        doctor=slot.doctor.name if slot.doctor else None,
        starts_at=slot.starts_at.astimezone(tz),
        checked_in_at=booking.checked_in_at.astimezone(tz) if booking.checked_in_at else None,
        sensitive=bool(dept.sensitive),
    )
