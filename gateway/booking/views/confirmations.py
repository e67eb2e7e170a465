"""What a citizen is told: a booking's confirmation, a hold's place and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.persons import dependant_name
from gateway.booking.models import Booking, Citizen, Slot, Voucher
from gateway.booking.sql.bookings import Booked
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor
from gateway.booking.sql.holds import HoldRow
from gateway.booking.sql.vouchers import CURRENT_FIRST
from gateway.booking.views.readside import Held

BOOKINGS, SLOTS, VOUCHERS = Booking.__table__, Slot.__table__, Voucher.__table__
CITIZENS = Citizen.__table__


@dataclass(frozen=True)
class Confirmation:
    ref: str
    created: bool
    tcode: str
    voucher_ref: str
    hospital_code: str
    hospital: str
    department: str
    sensitive: bool
    starts_at: datetime  # hospital-local
    status: str
    person: str | None = None  # a dependant's first name; None for the phone's holder ("Me")
    department_id: int = 0  # names it in another language (the catalogue's)

    @classmethod
    def of(
        cls,
        ref: str,
        created: bool,
        tcode: str,
        voucher_ref: str,
        dept: DepartmentInfo,
        starts_at: datetime,
        status: str,
        person: str | None = None,
    ) -> Confirmation:
        return cls(
            ref=ref,
            created=created,
            tcode=tcode,
            voucher_ref=voucher_ref,
            hospital_code=dept.hospital_code,
            hospital=dept.hospital_name_gsm,
            department=dept.name_gsm,
            sensitive=dept.sensitive,
            starts_at=starts_at.astimezone(dept.timezone),
            status=status,
            person=person,
            department_id=dept.id,
        )


def confirmed(b: Booked) -> Confirmation:
    """The confirmation of a booking an operation made, found or changed."""
    v = b.voucher
    return Confirmation.of(
        b.ref, b.created, v.tcode, v.ref, b.dept, b.starts_at, b.status, b.person
    )


# The booking with its current voucher (sql.vouchers.CURRENT_FIRST).
_BY_REF = DriverStatement(
    select(
        BOOKINGS.c.status,
        SLOTS.c.starts_at,
        SLOTS.c.department_id,
        VOUCHERS.c.tcode,
        VOUCHERS.c.ref,
        CITIZENS.c.name,
        CITIZENS.c.guardian_id,
    )
    .join(SLOTS, SLOTS.c.id == BOOKINGS.c.slot_id)
    .join(VOUCHERS, VOUCHERS.c.booking_id == BOOKINGS.c.id)
    .join(CITIZENS, CITIZENS.c.id == BOOKINGS.c.citizen_id)
    .where(BOOKINGS.c.ref == bindparam("ref"))
    .order_by(*CURRENT_FIRST)
    .limit(1)
)


def confirmation(
    db: Executor, catalogue: CatalogueCache, ref: str, created: bool = False
) -> Confirmation:
    """Booking `ref` as it stands (in the caller's transaction, if it has one)."""
    row = _BY_REF.run(db, {"ref": ref}).first()
    if row is None:
        raise NotFound(what="booking")
    status, starts_at, department_id, tcode, voucher_ref, name, guardian_id = row
    dept = catalogue.department(department_id)
    person = dependant_name(name, guardian_id)
    return Confirmation.of(ref, created, tcode, voucher_ref, dept, starts_at, status, person)


@dataclass(frozen=True)
class HoldInfo:
    id: int
    slot_id: int
    department_id: int
    hospital: str
    department: str
    starts_at: datetime  # hospital-local
    expires_at: datetime
    person_id: int = 0  # the person the place is held for ("Me" or a dependant)
    # What the person still lacks to book where the hospital books by real name and national
    # ID ("name", "birth_year", "national_id"); asked for while the place is held.
    lacks: tuple[str, ...] = ()

    @classmethod
    def of(cls, hold: HoldRow, starts_at: datetime, dept: DepartmentInfo) -> HoldInfo:
        return cls(
            id=hold.id,
            slot_id=hold.slot_id,
            department_id=dept.id,
            hospital=dept.hospital_name_gsm,
            department=dept.name_gsm,
            starts_at=starts_at.astimezone(dept.timezone),
            expires_at=hold.expires_at.astimezone(dept.timezone),
            person_id=hold.citizen_id,
        )


def live_hold(catalogue: CatalogueCache, found: Held | None, now: datetime) -> HoldInfo | None:
    """The hold a read found, if it is still live (expired ones count as gone)."""
    if found is None or not found[0].live(now):
        return None
    hold, starts_at, department_id = found
    return HoldInfo.of(hold, starts_at, catalogue.department(department_id))
