"""What the hospital desk reads: the day's bookings of a hospital (or one department)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.persons import first_name
from gateway.booking.domain.states import LIVE_VOUCHER_STATES
from gateway.booking.domain.vouchers import current
from gateway.booking.models import Booking, Department, Hospital, Slot


@dataclass(frozen=True)
class DeskBooking:
    ref: str
    department: str  # department code
    starts_at: datetime  # hospital-local
    status: str
    kind: str
    channel: str
    phone: str
    name: str | None
    person: str | None  # whose booking: the person's first name (a dependant's, or "Me"'s)
    tcode: str | None
    queue_number: int | None


def day_bookings(
    session: Session, hospital_code: str, day: date, department_code: str | None = None
) -> list[DeskBooking]:
    """Every booking of the hospital's `day` (any status), by start time then reference."""
    hospital = session.scalars(select(Hospital).where(Hospital.code == hospital_code)).one_or_none()
    if hospital is None:
        raise NotFound(what="hospital")
    query = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Department, Department.id == Booking.department_id)
        .where(Department.hospital_id == hospital.id, Booking.day == day)
        .options(
            joinedload(Booking.slot).joinedload(Slot.department),
            joinedload(Booking.citizen),
            joinedload(Booking.vouchers),
        )
        .order_by(Slot.starts_at, Booking.ref)
    )
    if department_code is not None:
        known = select(Department.id).where(
            Department.hospital_id == hospital.id, Department.code == department_code
        )
        if session.scalar(known) is None:
            raise NotFound(what="department")
        query = query.where(Department.code == department_code)
    tz = ZoneInfo(hospital.timezone)
    return [_row(b, tz) for b in session.scalars(query).unique()]


def _row(b: Booking, tz: ZoneInfo) -> DeskBooking:
    voucher = current(b.vouchers)
    if voucher is not None and voucher.state not in LIVE_VOUCHER_STATES:
        voucher = None  # the desk sees a T-code only while it still checks in or was used
    return DeskBooking(
        ref=b.ref,
        department=b.slot.department.code,
        starts_at=b.slot.starts_at.astimezone(tz),
        status=b.status,
        kind=b.kind,
        channel=b.channel,
        phone=b.citizen.phone,
        name=b.citizen.name,
        person=first_name(b.citizen.name) or None,
        tcode=voucher.tcode if voucher else None,
        queue_number=b.queue_number,
    )
