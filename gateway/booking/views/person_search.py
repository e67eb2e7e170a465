"""What the console's search finds: the persons who booked at one hospital, by phone, T-code or
booking reference.

Every read is scoped to the hospital: a person is found only through a booking there, so a
search never tells a clerk that a citizen exists who never booked at their hospital.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from gateway.booking.domain.masking import masked_phone
from gateway.booking.domain.persons import first_name
from gateway.booking.models import Booking, Citizen, Department, Hospital, Voucher

# A phone's ending matches many people at a big hospital: the page shows this many, the
# clerk types more digits to narrow it down.
MOST_FOUND = 50


@dataclass(frozen=True)
class FoundPerson:
    id: int
    phone: str | None  # masked; None for a person without a phone
    name: str | None  # the whole name in real-name mode, else the first name
    dependant: bool  # booked for through a guardian's phone


def shown_name(name: str | None, real_name: bool) -> str | None:
    """The name staff see: all of it where the hospital works by real names, else the first."""
    return name if real_name else (first_name(name) or None)


def hospital_name(session: Session, hospital_code: str) -> str | None:
    """The hospital's name; None when there is no hospital with that code."""
    return session.scalar(select(Hospital.name).where(Hospital.code == hospital_code))


def _booked_here(hospital_code: str) -> ColumnElement[bool]:
    """The person (Citizen) has at least one booking, of any status, at the hospital."""
    return exists(
        select(Booking.id)
        .join(Department, Department.id == Booking.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Booking.citizen_id == Citizen.id, Hospital.code == hospital_code)
    )


def person_of_tcode(session: Session, hospital_code: str, tcode: str) -> int | None:
    """The person whose booking at the hospital had the T-code (any voucher state)."""
    return session.scalar(
        select(Booking.citizen_id)
        .join(Voucher, Voucher.booking_id == Booking.id)
        .join(Department, Department.id == Booking.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Voucher.tcode == tcode, Hospital.code == hospital_code)
    )


def person_of_ref(session: Session, hospital_code: str, ref: str) -> int | None:
    """The person of the booking `ref`, when that booking is at the hospital."""
    return session.scalar(
        select(Booking.citizen_id)
        .join(Department, Department.id == Booking.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Booking.ref == ref, Hospital.code == hospital_code)
    )


def persons_by_phone(
    session: Session,
    hospital_code: str,
    *,
    phone: str | None = None,
    ending: str | None = None,
    real_name: bool = False,
) -> list[FoundPerson]:
    """The persons who booked at the hospital with the whole E.164 `phone`, or a phone that
    ends in the digits `ending` (exactly one of the two); each phone's holder first."""
    if (phone is None) == (ending is None):
        raise ValueError("give a phone or its ending, not both")
    if ending is not None and not (ending.isascii() and ending.isdigit()):
        raise ValueError("a phone's ending is digits")  # never a LIKE wildcard
    # Only real phones start with "+": a desk-only person's placeholder and an erased
    # person's marker never match a typed ending.
    matches = Citizen.phone == phone if phone else Citizen.phone.like(f"+%{ending}")
    query = (
        select(Citizen)
        .where(matches, _booked_here(hospital_code))
        .order_by(Citizen.phone, Citizen.guardian_id.is_not(None), Citizen.id)
        .limit(MOST_FOUND)
    )
    return [
        FoundPerson(
            id=c.id,
            phone=masked_phone(c.phone),
            name=shown_name(c.name, real_name),
            dependant=c.guardian_id is not None,
        )
        for c in session.scalars(query)
    ]
