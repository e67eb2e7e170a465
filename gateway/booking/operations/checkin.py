"""Check-in: validate a T-code at the kiosk (or a reference at the desk), give a queue number.

Kiosk and desk share one path and one counter per department and day, so queue numbers follow
arrival order whichever way a citizen checks in: one read decides it (`scan` by T-code,
`scan_ref` by booking reference; a refusal or a rescan writes nothing), then one short
transaction of conditional updates checks it in (`admit_scanned`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Select, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement, FromClause

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain import events
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import (
    AlreadyCheckedIn,
    CheckInRefused,
    NotFound,
    TooEarly,
    TooLate,
    UnknownCode,
    VoucherCancelled,
    VoucherExpired,
    VoucherReplaced,
    WrongDay,
    WrongHospital,
)
from gateway.booking.domain.persons import first_name
from gateway.booking.domain.rules import checkin_window
from gateway.booking.domain.states import (
    BOOKING,
    VOUCHER,
    BookingStatus,
    VoucherState,
)
from gateway.booking.models import Booking, Citizen, Doctor, QueueCounter, Slot, Voucher
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.events import record
from gateway.booking.sql.executor import dialect_name
from gateway.booking.sql.guards import may, value
from gateway.booking.sql.vouchers import CURRENT_FIRST
from gateway.settings import BookingRules, BookingSettings

VOUCHERS, BOOKINGS, SLOTS = Voucher.__table__, Booking.__table__, Slot.__table__
DOCTORS, COUNTERS, CITIZENS = Doctor.__table__, QueueCounter.__table__, Citizen.__table__


@dataclass(frozen=True)
class Ticket:
    """What a queue ticket shows. A sensitive department's name is never on it (README, Security):
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
    # Whose booking it is, so a parent checking in two children gets two tickets they can
    # tell apart: the person's first name only (a public hall), None when no name is known.
    person: str | None = None
    # The names in other languages, as written ({"sw": ...}); none for a sensitive department.
    hospital_names: Mapping[str, str] = field(default_factory=dict)
    department_names: Mapping[str, str] = field(default_factory=dict)


# A voucher's state, or a booking's status, that ends every check-in: the refusal it answers.
REFUSED_VOUCHERS: dict[str, type[CheckInRefused]] = {
    VoucherState.CANCELLED: VoucherCancelled,
    VoucherState.REPLACED: VoucherReplaced,
    VoucherState.EXPIRED: VoucherExpired,
}


def _not_confirmed(status: str) -> CheckInRefused:
    return VoucherCancelled() if status == BookingStatus.CANCELLED else VoucherExpired()


@dataclass(frozen=True)
class Scan:
    """One statement's read of a voucher, its booking and slot: all a kiosk scan decides on."""

    voucher_id: int | None  # None: a booking without a voucher, read at the desk
    voucher_state: str | None
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
    name: str | None = None  # the booking's person's name, as registered


def _scan_of(where: ColumnElement[bool], source: FromClause) -> Select[Any]:
    return (
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
            CITIZENS.c.name,
        )
        .select_from(
            source.join(SLOTS, SLOTS.c.id == BOOKINGS.c.slot_id)
            .join(CITIZENS, CITIZENS.c.id == BOOKINGS.c.citizen_id)
            .outerjoin(DOCTORS, DOCTORS.c.id == SLOTS.c.doctor_id)
        )
        .where(where)
    )


_SCAN = DriverStatement(
    _scan_of(
        VOUCHERS.c.tcode == bindparam("tcode"),
        VOUCHERS.join(BOOKINGS, BOOKINGS.c.id == VOUCHERS.c.booking_id),
    )
)
# The desk names the booking: the same read, through its current voucher. A booking without
# any voucher row still checks in at the desk (as it always did), with no voucher to mark.
_SCAN_REF = DriverStatement(
    _scan_of(
        BOOKINGS.c.ref == bindparam("ref"),
        BOOKINGS.outerjoin(VOUCHERS, VOUCHERS.c.booking_id == BOOKINGS.c.id),
    )
    .order_by(*CURRENT_FIRST)
    .limit(1)
)
# Conditional: a cancel, rebook or second kiosk that got there first makes them match nothing,
# and the scan is decided again on what is there now.
_MARK_BOOKING = DriverStatement(
    update(BOOKINGS)
    .where(
        BOOKINGS.c.id == bindparam("booking_id"),
        may(BOOKINGS.c.status, BOOKING, "check_in"),
        BOOKINGS.c.slot_id == bindparam("seen_slot_id"),
    )
    .values(
        status=value(BOOKING.target("check_in")),
        checked_in_at=bindparam("now"),
        queue_number=bindparam("number"),
        checked_in_kiosk_id=bindparam("kiosk_id"),
        # Showing up in person with the voucher is the owner's confirmation of a voice booking.
        unconfirmed=False,
    )
)
_MARK_VOUCHER = DriverStatement(
    update(VOUCHERS)
    .where(VOUCHERS.c.id == bindparam("voucher_id"), may(VOUCHERS.c.state, VOUCHER, "check_in"))
    .values(state=value(VOUCHER.target("check_in")), changed_at=bindparam("now"))
)


class Changed(Exception):
    """The voucher or booking changed between the scan's read and its write: read again."""


def scan(db: Connection, tcode: str) -> Scan:
    row = _SCAN.run(db, {"tcode": tcode}).first()
    if row is None:
        raise UnknownCode()
    return Scan(*row)


def scan_ref(db: Connection, ref: str) -> Scan:
    """The desk's read of booking `ref`: the same facts a kiosk scan of its voucher gives."""
    row = _SCAN_REF.run(db, {"ref": ref}).first()
    if row is None:
        raise NotFound(what="booking")
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
    if seen.voucher_state in REFUSED_VOUCHERS:
        raise REFUSED_VOUCHERS[seen.voucher_state]()
    if dept.hospital_code != hospital_code:
        raise WrongHospital(hospital=dept.hospital_name, starts_at=seen.starts_at.astimezone(tz))
    ticket = _check_status(seen, dept)
    rules = booking_rules.rules_for(hospital_code)
    check_time(seen.starts_at, seen.day, rules, tz, now)
    return ticket


def validate_desk(
    seen: Scan, dept: DepartmentInfo, booking_rules: BookingSettings, now: datetime
) -> Ticket:
    """Raise the refusal the desk answers for this booking now; else the ticket it would get.

    Staff are the human override of the kiosk's time window (a late arrival, a lost phone), so
    only the booking's state and its day (`check_desk_day`) are checked here.
    """
    ticket = _check_status(seen, dept)
    state = seen.voucher_state
    if state is not None and not VOUCHER.allows("check_in", state):
        # A confirmed booking whose current voucher cannot check in (no live one is left):
        # the kiosk's refusal for that state, rather than a write that can never match.
        raise REFUSED_VOUCHERS.get(state, VoucherExpired)()
    rules = booking_rules.rules_for(dept.hospital_code)
    check_desk_day(seen.starts_at, seen.day, rules, dept.timezone, now)
    return ticket


def _check_status(seen: Scan, dept: DepartmentInfo) -> Ticket:
    """Raise unless the booking may check in; else the ticket as it stands."""
    ticket = _ticket(seen, dept, seen.queue_number, seen.checked_in_at)
    if seen.status == BookingStatus.CHECKED_IN or seen.voucher_state == VoucherState.USED:
        raise AlreadyCheckedIn(ticket=ticket, checked_in_at=ticket.checked_in_at)
    if not BOOKING.allows("check_in", seen.status):
        raise _not_confirmed(seen.status)
    return ticket


def admit_scanned(
    db: Connection,
    seen: Scan,
    dept: DepartmentInfo,
    now: datetime,
    kiosk_id: int | None = None,
    at: str = "kiosk",
    number: int | None = None,
) -> Ticket:
    """Check a validated scan in: queue number, booking and voucher marked, one event.

    `at` says where ("kiosk" or "desk"); `kiosk_id` names the kiosk that scanned it, on the
    booking and in the event; `number`: a queue number the caller took already (a walk-in
    takes it before its slot, so the counter is always locked before a slot). Raises Changed
    (the caller rolls back and scans again) if either row moved since the read.
    """
    if number is None:
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
    if seen.voucher_id is not None and not _MARK_VOUCHER.run(db, params).rowcount:
        raise Changed()
    event = events.booking_checked_in(
        seen.ref, booking_id=seen.booking_id, queue_number=number, at=at, kiosk_id=kiosk_id
    )
    record(db, event, now)
    return _ticket(seen, dept, number, now)


def desk_check_in(
    db: Connection,
    catalogue: CatalogueCache,
    ref: str,
    now: datetime,
    booking_rules: BookingSettings,
) -> Ticket:
    """Check booking `ref` in at the hospital desk: the kiosk's path, read by reference.

    Raises Changed when the booking moved between the read and the write (read again).
    """
    seen = scan_ref(db, ref)
    dept = catalogue.department(seen.department_id)
    validate_desk(seen, dept, booking_rules, now)
    return admit_scanned(db, seen, dept, now, at="desk")


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
        person=first_name(seen.name) or None,
        hospital_names=dept.hospital_names,
        department_names={} if dept.sensitive else dept.names,
    )


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
        raise TooEarly(opens_at=opens.astimezone(tz), starts_at=local_start)
    if now > closes and closes.astimezone(tz).date() == today:
        raise TooLate(starts_at=local_start)
    raise WrongDay(day=day, starts_at=local_start)


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
    raise WrongDay(day=day, starts_at=starts_at.astimezone(tz))


def _bump(dialect: str) -> ClauseElement:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(COUNTERS)
    statement: ClauseElement = (
        insert.values(department_id=bindparam("department_id"), day=bindparam("day"), last_number=1)
        .on_conflict_do_update(
            index_elements=[COUNTERS.c.department_id, COUNTERS.c.day],
            set_={"last_number": COUNTERS.c.last_number + 1},
        )
        .returning(COUNTERS.c.last_number)
    )
    return statement


_BUMPS = {name: DriverStatement(_bump(name)) for name in ("postgresql", "sqlite")}


def next_queue_number(db: Connection, department_id: int, day: date) -> int:
    """Bump the department's counter for the day atomically and return the new number."""
    params = {"department_id": department_id, "day": day}
    return int(_BUMPS[dialect_name(db)].run(db, params).scalar_one())
