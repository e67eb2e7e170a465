"""The staff console's day sheet: a hospital's bookings of one day, sorted into the desk's tabs.

Unlike the CLI's flat list (views.day_list), every row says which tab it belongs to, and the
sheet can be narrowed to a department and a doctor. A confirmed booking moves from "booked"
to "not arrived" the moment its check-in window closes (domain.rules.checkin_window), before
the sweep marks it a no-show, so the desk sees who is late while they can still be called.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.persons import dependant_name
from gateway.booking.domain.rules import checkin_window
from gateway.booking.domain.states import BookingStatus
from gateway.booking.domain.vouchers import current
from gateway.booking.models import Booking, Department, Doctor, Hospital, Slot
from gateway.settings import BookingRules

BOOKED, CHECKED_IN, NOT_ARRIVED, NO_SHOW, CANCELLED = (
    "booked",
    "checked_in",
    "not_arrived",
    "no_show",
    "cancelled",
)
TABS: tuple[str, ...] = (BOOKED, CHECKED_IN, NOT_ARRIVED, NO_SHOW, CANCELLED)
_TAB_OF_STATUS = {
    BookingStatus.CHECKED_IN: CHECKED_IN,
    BookingStatus.NO_SHOW: NO_SHOW,
    BookingStatus.CANCELLED: CANCELLED,
}


@dataclass(frozen=True)
class SheetRow:
    ref: str
    tab: str
    starts_at: datetime  # hospital-local
    department: str  # code
    doctor: str | None  # code
    status: str
    channel: str
    phone: str  # E.164, or a placeholder for a person without a phone (persons.has_phone)
    name: str | None  # the person's registered name, only where the hospital books by real name
    person: str | None  # a dependant's first name (None: the phone's holder)
    voucher_id: int | None
    voucher_state: str | None
    queue_number: int | None


@dataclass(frozen=True)
class Choice:
    code: str
    name: str


@dataclass(frozen=True)
class DaySheet:
    hospital: str
    day: date
    timezone: str
    real_name: bool
    departments: tuple[Choice, ...]  # every department of the hospital (the filter's options)
    doctors: tuple[Choice, ...]  # every doctor of the hospital
    rows: tuple[SheetRow, ...]

    def counts(self) -> dict[str, int]:
        found = Counter(r.tab for r in self.rows)
        return {tab: found[tab] for tab in TABS}

    def tab(self, name: str) -> list[SheetRow]:
        return [r for r in self.rows if r.tab == name]

    def row(self, ref: str) -> SheetRow | None:
        return next((r for r in self.rows if r.ref == ref), None)


def tab_of(status: str, starts_at: datetime, rules: BookingRules, now: datetime) -> str:
    """The tab a booking in `status` shows under at `now`."""
    if status != BookingStatus.CONFIRMED:
        return _TAB_OF_STATUS[BookingStatus(status)]
    return NOT_ARRIVED if now > checkin_window(starts_at, rules)[1] else BOOKED


def day_sheet(
    session: Session,
    rules: BookingRules,
    hospital_code: str,
    day: date,
    now: datetime,
    department_code: str | None = None,
    doctor_code: str | None = None,
) -> DaySheet:
    """The bookings of the hospital's `day` (any status), by start time then reference.

    Raises NotFound for an unknown hospital, or a department or doctor it does not have.
    """
    hospital = session.scalars(select(Hospital).where(Hospital.code == hospital_code)).one_or_none()
    if hospital is None:
        raise NotFound(what="hospital")
    departments = _choices(session, Department, hospital.id)
    doctors = _choices(session, Doctor, hospital.id)
    query = _bookings(hospital.id, day)
    if department_code is not None:
        if department_code not in {d.code for d in departments}:
            raise NotFound(what="department")
        query = query.where(Department.code == department_code)
    if doctor_code is not None:
        if doctor_code not in {d.code for d in doctors}:
            raise NotFound(what="doctor")
        query = query.join(Doctor, Doctor.id == Slot.doctor_id).where(Doctor.code == doctor_code)
    tz = ZoneInfo(hospital.timezone)
    rows = tuple(_row(b, tz, rules, now) for b in session.scalars(query).unique())
    return DaySheet(
        hospital.code, day, hospital.timezone, rules.real_name, departments, doctors, rows
    )


def _bookings(hospital_id: int, day: date) -> Select[Booking]:
    return (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Department, Department.id == Booking.department_id)
        .where(Department.hospital_id == hospital_id, Booking.day == day)
        .options(
            joinedload(Booking.slot).joinedload(Slot.department),
            joinedload(Booking.slot).joinedload(Slot.doctor),
            joinedload(Booking.citizen),
            joinedload(Booking.vouchers),
        )
        .order_by(Slot.starts_at, Booking.ref)
    )


def _choices(
    session: Session, model: type[Department] | type[Doctor], hospital_id: int
) -> tuple[Choice, ...]:
    found = session.execute(
        select(model.code, model.name).where(model.hospital_id == hospital_id).order_by(model.name)
    )
    return tuple(Choice(code, name) for code, name in found)


def _row(b: Booking, tz: ZoneInfo, rules: BookingRules, now: datetime) -> SheetRow:
    voucher = current(b.vouchers)
    return SheetRow(
        ref=b.ref,
        tab=tab_of(b.status, b.slot.starts_at, rules, now),
        starts_at=b.slot.starts_at.astimezone(tz),
        department=b.slot.department.code,
        doctor=b.slot.doctor.code if b.slot.doctor else None,
        status=b.status,
        channel=b.channel,
        phone=b.citizen.phone,
        name=b.citizen.name if rules.real_name else None,
        person=dependant_name(b.citizen.name, b.citizen.guardian_id),
        voucher_id=voucher.id if voucher else None,
        voucher_state=voucher.state if voucher else None,
        queue_number=b.queue_number,
    )
