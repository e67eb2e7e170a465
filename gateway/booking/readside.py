"""Queries the menus run on every hop: one or two indexed queries each, no writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.models import Booking, Citizen, City, Department, Hospital, Slot
from gateway.booking.rules import last_open_day
from gateway.settings import BookingSettings


@dataclass(frozen=True)
class Item:
    id: int
    code: str
    name: str  # GSM-7 transliterated, ready for a USSD screen or an SMS


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


def cities(session: Session) -> list[Item]:
    rows = session.execute(
        select(City.id, City.code, City.name_gsm)
        .where(City.hospitals.any())
        .order_by(City.name_gsm)
    )
    return [Item(*row) for row in rows]


def hospitals(session: Session, city_id: int) -> list[Item]:
    rows = session.execute(
        select(Hospital.id, Hospital.code, Hospital.name_gsm)
        .where(Hospital.city_id == city_id)
        .order_by(Hospital.name_gsm)
    )
    return [Item(*row) for row in rows]


def departments(session: Session, hospital_id: int) -> list[Item]:
    rows = session.execute(
        select(Department.id, Department.code, Department.name_gsm)
        .where(Department.hospital_id == hospital_id)
        .order_by(Department.name_gsm)
    )
    return [Item(*row) for row in rows]


def _free(department_id: int, after: datetime):  # type: ignore[no-untyped-def]
    return select(Slot).where(
        Slot.department_id == department_id,
        Slot.starts_at > after,
        Slot.remote_taken < Slot.remote_capacity,
    )


def _hospital_of(session: Session, department_id: int) -> Hospital:
    return session.scalars(
        select(Hospital).join(Department).where(Department.id == department_id)
    ).one()


def open_days(
    session: Session, booking: BookingSettings, department_id: int, now: datetime
) -> list[date]:
    """Released days with at least one free remote place, soonest first."""
    hospital = _hospital_of(session, department_id)
    rules = booking.rules_for(hospital.code)
    last = last_open_day(now, ZoneInfo(hospital.timezone), rules)
    after = now + timedelta(minutes=rules.min_lead_minutes)
    query = (
        _free(department_id, after)
        .with_only_columns(Slot.day)
        .distinct()
        .where(Slot.day <= last)
        .order_by(Slot.day)
    )
    return list(session.scalars(query))


def free_slots(
    session: Session, booking: BookingSettings, department_id: int, day: date, now: datetime
) -> list[FreeSlot]:
    hospital = _hospital_of(session, department_id)
    rules = booking.rules_for(hospital.code)
    tz = ZoneInfo(hospital.timezone)
    if day > last_open_day(now, tz, rules):
        return []
    after = now + timedelta(minutes=rules.min_lead_minutes)
    slots = session.scalars(
        _free(department_id, after).where(Slot.day == day).order_by(Slot.starts_at)
    )
    return [
        FreeSlot(s.id, s.starts_at.astimezone(tz), s.remote_capacity - s.remote_taken)
        for s in slots
    ]


def next_free_times(session: Session, slot: Slot, now: datetime, limit: int = 3) -> list[datetime]:
    """The next free starts in the slot's department (hospital-local), for a `slot_full` answer."""
    tz = ZoneInfo(slot.department.hospital.timezone)
    query = (
        _free(slot.department_id, now)
        .where(Slot.id != slot.id)
        .order_by(Slot.starts_at)
        .limit(limit)
    )
    return [s.starts_at.astimezone(tz) for s in session.scalars(query)]


def upcoming(session: Session, phone: str, now: datetime) -> list[UpcomingBooking]:
    """The phone holder's confirmed bookings that have not started more than an hour ago."""
    query = (
        select(Booking)
        .join(Citizen)
        .join(Slot)
        .where(
            Citizen.phone == phone,
            Booking.status == "confirmed",
            Slot.starts_at > now - timedelta(hours=1),
        )
        .options(
            joinedload(Booking.slot).joinedload(Slot.department).joinedload(Department.hospital),
            joinedload(Booking.vouchers),
        )
        .order_by(Slot.starts_at)
    )
    return [_upcoming(b) for b in session.scalars(query).unique()]


def _upcoming(b: Booking) -> UpcomingBooking:
    dept = b.slot.department
    voucher = next((v for v in reversed(b.vouchers) if v.state == "issued"), None)
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
    )
