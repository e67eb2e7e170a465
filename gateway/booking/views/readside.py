"""Queries the menus run on their hops: one indexed statement each, no writes.

Cities, hospitals and departments come from the process's catalogue cache (catalog_cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ScalarSelect, and_, bindparam, case, exists, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.persons import named
from gateway.booking.domain.rules import last_open_day
from gateway.booking.domain.states import BookingStatus
from gateway.booking.domain.vouchers import current
from gateway.booking.models import Booking, Citizen, Department, Slot
from gateway.booking.sql import holds
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor
from gateway.settings import BookingSettings


@dataclass(frozen=True)
class FreeSlot:
    id: int
    starts_at: datetime  # hospital-local
    places_left: int


@dataclass(frozen=True)
class UpcomingBooking:
    ref: str
    tcode: str | None
    voucher_ref: str | None
    hospital: str
    department: str
    sensitive: bool
    starts_at: datetime  # hospital-local
    status: str
    hospital_code: str = ""
    unconfirmed: bool = False  # booked by a voice call its phone's owner has not confirmed yet
    person: str | None = None  # a dependant's first name; None for the phone's holder ("Me")
    department_id: int = 0  # names it in another language (the catalogue's)


SLOTS = Slot.__table__
# A phone may take a place while the remote share has one and the desk's walk-ins have not
# filled the slot (sql.capacity's claim asks the same), so no list offers what a claim refuses.
_BESIDE_WALK_INS = SLOTS.c.capacity - SLOTS.c.remote_taken - SLOTS.c.walk_in_taken
_PLACES = case(
    (SLOTS.c.remote_capacity - SLOTS.c.remote_taken < _BESIDE_WALK_INS,
     SLOTS.c.remote_capacity - SLOTS.c.remote_taken),
    else_=_BESIDE_WALK_INS,
)  # fmt: skip
_FREE = (
    SLOTS.c.department_id == bindparam("department_id"),
    SLOTS.c.starts_at > bindparam("after"),
    SLOTS.c.remote_taken < SLOTS.c.remote_capacity,
    _BESIDE_WALK_INS > 0,
)
_OPEN_DAYS = DriverStatement(
    select(SLOTS.c.day)
    .where(*_FREE, SLOTS.c.day <= bindparam("last"))
    .distinct()
    .order_by(SLOTS.c.day)
)
_FREE_SLOTS = DriverStatement(
    select(SLOTS.c.id, SLOTS.c.starts_at, _PLACES)
    .where(*_FREE, SLOTS.c.day == bindparam("day"))
    .order_by(SLOTS.c.starts_at)
)
NEXT_TIMES = 3  # free starts a `slot_full` refusal names
_NEXT_FREE = DriverStatement(
    select(SLOTS.c.starts_at)
    .where(*_FREE, SLOTS.c.id != bindparam("slot_id"))
    .order_by(SLOTS.c.starts_at)
    .limit(NEXT_TIMES)
)


def open_days(
    db: Executor,
    booking: BookingSettings,
    dept: DepartmentInfo,
    now: datetime,
    until: date | None = None,
) -> list[date]:
    """Released days with at least one free remote place, soonest first; `until`: days up to
    then, released or not (an invitation's window: the hospital's own offer)."""
    rules = booking.rules_for(dept.hospital_code)
    params = {
        "department_id": dept.id,
        "after": now + timedelta(minutes=rules.min_lead_minutes),
        "last": until or last_open_day(now, dept.timezone, rules),
    }
    return _OPEN_DAYS.run(db, params).scalars()


def free_slots(
    db: Executor,
    booking: BookingSettings,
    dept: DepartmentInfo,
    day: date,
    now: datetime,
    released_only: bool = True,
) -> list[FreeSlot]:
    rules = booking.rules_for(dept.hospital_code)
    tz = dept.timezone
    if released_only and day > last_open_day(now, tz, rules):
        return []
    params = {
        "department_id": dept.id,
        "after": now + timedelta(minutes=rules.min_lead_minutes),
        "day": day,
    }
    return [
        FreeSlot(slot_id, starts_at.astimezone(tz), left)
        for slot_id, starts_at, left in _FREE_SLOTS.run(db, params)
    ]


def next_free_times(
    db: Executor, slot_id: int, dept: DepartmentInfo, now: datetime
) -> list[datetime]:
    """The next free starts in the slot's department (hospital-local), for a `slot_full` answer."""
    params = {"department_id": dept.id, "after": now, "slot_id": slot_id}
    return [t.astimezone(dept.timezone) for t in _NEXT_FREE.run(db, params).scalars()]


_OTHERS = holds.HOLDS.alias("others")
_MINE = holds.HOLDS.alias("mine")
_LATER = SLOTS.alias("later")


def _next_free(offset: int) -> ScalarSelect[datetime]:
    """The department's next free start after now but this slot, `offset` places down."""
    return (
        select(_LATER.c.starts_at)
        .where(
            _LATER.c.department_id == SLOTS.c.department_id,
            _LATER.c.starts_at > bindparam("now"),
            _LATER.c.remote_taken < _LATER.c.remote_capacity,
            _LATER.c.remote_taken + _LATER.c.walk_in_taken < _LATER.c.capacity,
            _LATER.c.id != SLOTS.c.id,
        )
        .order_by(_LATER.c.starts_at)
        .limit(1)
        .offset(offset)
        .scalar_subquery()
    )


# A full slot refuses a hold before any lock or write, with the next free times the refusal
# names, in one statement: most of a flash crowd ends here. Not when the slot has expired
# holds to reclaim, nor when the caller's own hold is one of its places.
_SURELY_FULL = DriverStatement(
    select(
        SLOTS.c.department_id,
        and_(
            SLOTS.c.remote_taken >= SLOTS.c.remote_capacity,
            ~exists().where(
                _OTHERS.c.slot_id == SLOTS.c.id, _OTHERS.c.expires_at <= bindparam("now")
            ),
            ~exists().where(_MINE.c.slot_id == SLOTS.c.id, _MINE.c.phone == bindparam("phone")),
        ),
        *(_next_free(offset) for offset in range(NEXT_TIMES)),
    ).where(SLOTS.c.id == bindparam("slot_id"))
)
_HELD = DriverStatement(
    select(*holds.COLUMNS, SLOTS.c.starts_at, SLOTS.c.department_id)
    .join(SLOTS, SLOTS.c.id == holds.HOLDS.c.slot_id)
    .where(holds.HOLDS.c.phone == bindparam("phone"))
)
CITIZENS = Citizen.__table__
_PERSON = CITIZENS.alias("person")
# The phone's block (every person of it is refused) lasts while `blocked_persons` of its
# persons are blocked: until the block of that rank, longest first, ends (an ended one at that
# rank means too few are blocked now). A person who moved away took their block along.
_PHONE_BLOCK = (
    select(_PERSON.c.blocked_until)
    .where(
        _PERSON.c.phone == bindparam("phone"),
        _PERSON.c.moved_to.is_(None),
        _PERSON.c.blocked_until.is_not(None),
    )
    .order_by(_PERSON.c.blocked_until.desc())
    .limit(1)
    .offset(bindparam("rank"))
    .scalar_subquery()
)
# A hold implies its citizen row (it is placed under the citizen's lock), so starting from the
# citizen loses nothing; no row at all means a phone never seen.
_CALLER = DriverStatement(
    select(
        CITIZENS.c.language,
        *holds.COLUMNS,
        SLOTS.c.starts_at,
        SLOTS.c.department_id,
        CITIZENS.c.consent_at,
        CITIZENS.c.persons_added,
        CITIZENS.c.blocked_until,
        _PHONE_BLOCK,
    )
    .select_from(
        CITIZENS.outerjoin(holds.HOLDS, holds.HOLDS.c.phone == CITIZENS.c.phone).outerjoin(
            SLOTS, SLOTS.c.id == holds.HOLDS.c.slot_id
        )
    )
    .where(CITIZENS.c.phone == bindparam("phone"), CITIZENS.c.guardian_id.is_(None))
)
Held = tuple[holds.HoldRow, datetime, int]  # the hold, its slot's start and department
BlockEnd = datetime | None  # until when a block lasts (UTC); None: not blocked now


@dataclass(frozen=True)
class Fullness:
    department_id: int
    surely_full: bool  # a hold would surely be refused as full now
    next_times: list[datetime]  # UTC: the department's next free starts but this slot


def fullness(db: Executor, slot_id: int, phone: str, now: datetime) -> Fullness:
    row = _SURELY_FULL.run(db, {"slot_id": slot_id, "phone": phone, "now": now}).first()
    if row is None:
        raise NotFound(what="slot")
    return Fullness(row[0], bool(row[1]), [t for t in row[2:] if t is not None])


def held(db: Executor, phone: str) -> Held | None:
    """The phone's hold (live or not), its slot's start and department."""
    row = _HELD.run(db, {"phone": phone}).first()
    return (holds.HoldRow(*row[:7]), row[7], row[8]) if row else None


def caller(
    db: Executor, phone: str, now: datetime, blocked_persons: int
) -> tuple[str | None, Held | None, bool, bool, BlockEnd]:
    """The language the phone's holder chose, their hold, whether they ever booked (were
    told the privacy notice and consented), whether the phone ever added a dependant, and
    until when "Book" refuses everyone (the holder's block on a phone without dependants,
    else the phone's, once `blocked_persons` of its persons are blocked): one statement."""
    params = {"phone": phone, "rank": blocked_persons - 1}
    row = _CALLER.run(db, params).first()
    if row is None:
        return None, None, False, False, None
    hold = (holds.HoldRow(*row[1:8]), row[8], row[9]) if row[1] is not None else None
    household = bool(row[11])
    blocked = row[13] if household else row[12]
    blocked = blocked if blocked is not None and blocked > now else None
    return row[0], hold, row[10] is not None, household, blocked


def upcoming(session: Session, phone: str, now: datetime) -> list[UpcomingBooking]:
    """The phone holder's confirmed bookings that have not started more than an hour ago."""
    query = (
        select(Booking)
        .join(Citizen)
        .join(Slot)
        .where(
            Citizen.phone == phone,
            Booking.status == BookingStatus.CONFIRMED,
            Slot.starts_at > now - timedelta(hours=1),
        )
        .options(
            joinedload(Booking.slot).joinedload(Slot.department).joinedload(Department.hospital),
            joinedload(Booking.vouchers),
            contains_eager(Booking.citizen),
        )
        .order_by(Slot.starts_at)
    )
    return [_upcoming(b) for b in session.scalars(query).unique()]


def _upcoming(b: Booking) -> UpcomingBooking:
    dept = b.slot.department
    voucher = current(b.vouchers)  # a confirmed booking's is its issued one
    return UpcomingBooking(
        ref=b.ref,
        tcode=voucher.tcode if voucher else None,
        voucher_ref=voucher.ref if voucher else None,
        hospital=dept.hospital.name_gsm,
        department=dept.name_gsm,
        sensitive=dept.sensitive,
        starts_at=b.slot.starts_at.astimezone(ZoneInfo(dept.hospital.timezone)),
        status=b.status,
        hospital_code=dept.hospital.code,
        unconfirmed=b.unconfirmed,
        person=named(b.citizen),
        department_id=dept.id,
    )
