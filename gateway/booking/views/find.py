"""What staff look up: a phone's, a T-code's or a reference's bookings, and the catalogue's codes.

Read only; no national ID ever leaves here (the desk identifies people by first name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.names import sms_name
from gateway.booking.domain.persons import first_name
from gateway.booking.domain.vouchers import current
from gateway.booking.models import (
    Booking,
    Citizen,
    City,
    Department,
    Doctor,
    Hospital,
    Slot,
    Voucher,
)


@dataclass(frozen=True)
class FoundBooking:
    ref: str
    person: str | None  # a dependant's first name; None for the phone's holder ("Me")
    hospital: str  # hospital code
    department: str  # department code
    starts_at: datetime  # hospital-local
    status: str
    channel: str
    voucher: str | None  # the current voucher's state; None for a booking without one


def bookings_of(
    session: Session, *, phone: str | None = None, tcode: str | None = None, ref: str | None = None
) -> list[FoundBooking]:
    """Every booking of the phone's persons, of the T-code, or with the reference (exactly one
    key), by start time then reference; [] when nothing matches."""
    query = select(Booking).join(Slot, Slot.id == Booking.slot_id)
    if phone is not None:
        query = query.join(Citizen, Citizen.id == Booking.citizen_id).where(Citizen.phone == phone)
    elif tcode is not None:
        query = query.join(Voucher, Voucher.booking_id == Booking.id).where(Voucher.tcode == tcode)
    else:
        query = query.where(Booking.ref == ref)
    query = query.options(
        joinedload(Booking.slot).joinedload(Slot.department).joinedload(Department.hospital),
        joinedload(Booking.citizen),
        joinedload(Booking.vouchers),
    ).order_by(Slot.starts_at, Booking.ref)
    return [_found(b) for b in session.scalars(query).unique()]


def _found(b: Booking) -> FoundBooking:
    department = b.slot.department
    voucher = current(b.vouchers)
    holder = b.citizen.guardian_id is None
    return FoundBooking(
        ref=b.ref,
        person=None if holder else first_name(b.citizen.name) or None,
        hospital=department.hospital.code,
        department=department.code,
        starts_at=b.slot.starts_at.astimezone(ZoneInfo(department.hospital.timezone)),
        status=b.status,
        channel=b.channel,
        voucher=voucher.state if voucher else None,
    )


@dataclass(frozen=True)
class DepartmentEntry:
    code: str
    name: str
    doctors: tuple[tuple[str, str], ...]  # (code, name), by code


@dataclass(frozen=True)
class HospitalEntry:
    code: str
    name: str
    timezone: str
    departments: tuple[DepartmentEntry, ...]  # by code
    sms_name: str = ""  # how an SMS names it (domain.names.sms_name: set, or the name cut)


@dataclass(frozen=True)
class CityEntry:
    code: str
    name: str
    hospitals: tuple[HospitalEntry, ...]  # by code


def catalogue(session: Session, hospital_code: str | None = None) -> list[CityEntry]:
    """Cities, hospitals, departments and doctors by code, as written in the catalogue; only
    the one hospital (and its city) when `hospital_code` is given ([] if there is none)."""
    hospitals = select(Hospital).order_by(Hospital.code)
    if hospital_code is not None:
        hospitals = hospitals.where(Hospital.code == hospital_code)
    found = list(session.scalars(hospitals))
    ids = [h.id for h in found]
    departments: dict[int, list[Department]] = {}
    for d in session.scalars(
        select(Department).where(Department.hospital_id.in_(ids)).order_by(Department.code)
    ):
        departments.setdefault(d.hospital_id, []).append(d)
    doctors: dict[int, list[tuple[str, str]]] = {}
    for doc in session.scalars(
        select(Doctor).where(Doctor.hospital_id.in_(ids)).order_by(Doctor.code)
    ):
        doctors.setdefault(doc.department_id, []).append((doc.code, doc.name))
    cities = {
        c.id: c for c in session.scalars(select(City).where(City.id.in_(h.city_id for h in found)))
    }
    by_city: dict[int, list[HospitalEntry]] = {}
    for h in found:
        entry = HospitalEntry(
            h.code,
            h.name,
            h.timezone,
            tuple(
                DepartmentEntry(d.code, d.name, tuple(doctors.get(d.id, ())))
                for d in departments.get(h.id, ())
            ),
            sms_name(h.name_gsm, h.sms_name, h.sms_names, None),
        )
        by_city.setdefault(h.city_id, []).append(entry)
    return sorted(
        (CityEntry(cities[i].code, cities[i].name, tuple(hs)) for i, hs in by_city.items()),
        key=lambda c: c.code,
    )
