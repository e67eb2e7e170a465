"""What the voucher page shows: one query by the link's ref, and the cached QR image."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from gateway.booking.models import Booking, Department, Slot, Voucher, VoucherImage


@dataclass(frozen=True)
class VoucherView:
    id: int
    ref: str
    tcode: str
    payload: str
    state: str  # issued | used | replaced | cancelled | expired
    booking_status: str
    hospital: str
    department: str | None  # None for a sensitive department: the page says "Appointment"
    room: str | None
    starts_at: datetime  # hospital-local
    language: str | None

    @property
    def live(self) -> bool:
        return self.state in ("issued", "used")


def voucher_by_ref(session: Session, ref: str) -> VoucherView | None:
    voucher = session.scalars(
        select(Voucher)
        .where(Voucher.ref == ref)
        .options(
            joinedload(Voucher.booking)
            .joinedload(Booking.slot)
            .joinedload(Slot.department)
            .joinedload(Department.hospital),
            joinedload(Voucher.booking).joinedload(Booking.citizen),
        )
    ).one_or_none()
    if voucher is None:
        return None
    booking = voucher.booking
    dept = booking.slot.department
    tz = ZoneInfo(dept.hospital.timezone)
    return VoucherView(
        id=voucher.id,
        ref=voucher.ref,
        tcode=voucher.tcode,
        payload=voucher.payload,
        state=voucher.state,
        booking_status=booking.status,
        hospital=dept.hospital.name,
        department=None if dept.sensitive else dept.name,
        room=None if dept.sensitive else dept.room,
        starts_at=booking.slot.starts_at.astimezone(tz),
        language=booking.citizen.language,
    )


def cached_png(session: Session, voucher_id: int) -> bytes | None:
    return session.scalar(select(VoucherImage.png).where(VoucherImage.voucher_id == voucher_id))


def store_png(session: Session, voucher_id: int, png: bytes) -> None:
    """Keep the rendered image; a parallel first request that stored it already wins."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(VoucherImage).values(voucher_id=voucher_id, png=png).on_conflict_do_nothing()
    )
