"""What the console's person page shows: one person's bookings at one hospital, their block
and whether their phone said STOP.

The hospital scopes it all: a person without a booking there reads as no one (None), so the
page can answer 404 without confirming that the person exists elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.masking import masked_phone, masked_tcode
from gateway.booking.domain.persons import has_phone
from gateway.booking.domain.vouchers import current
from gateway.booking.models import Booking, Citizen, Department, Event, Hospital, Invitation, Slot
from gateway.booking.sql.marks import NEVER, first_id_at
from gateway.booking.views.person_search import shown_name

BLOCKED = "citizen.blocked"  # gateway.booking.domain.events.citizen_blocked


@dataclass(frozen=True)
class PersonBooking:
    ref: str
    starts_at: datetime  # hospital-local
    department: str  # the department's name
    doctor: str | None
    status: str
    kind: str  # booking | invitation
    channel: str
    tcode: str | None  # the current voucher's, masked but for its last four digits
    voucher: str | None  # the current voucher's state; None for a booking without one
    queue_number: int | None
    cancel_reason: str | None


@dataclass(frozen=True)
class Block:
    until: datetime  # hospital-local
    because: str | None  # what the block counted: "no_show" or "cancellation"; None: unknown
    strikes: int | None


@dataclass(frozen=True)
class PersonPage:
    id: int
    phone: str | None  # masked; None for a person without a phone
    name: str | None
    dependant: bool
    hospital_code: str
    hospital_name: str
    tz: ZoneInfo  # the hospital's: every time on the page is its wall time
    bookings: tuple[PersonBooking, ...]  # the latest start first
    invitation_refs: tuple[str, ...]  # the person's invitations at the hospital
    block: Block | None  # None: free to book
    sms_stopped: bool  # the phone's holder sent STOP: no notices or reminders go to it

    @property
    def refs(self) -> tuple[str, ...]:
        """Every reference the hospital's messages to this person can be about."""
        return tuple(b.ref for b in self.bookings) + self.invitation_refs


def person_page(
    session: Session, hospital_code: str, person_id: int, now: datetime, real_name: bool = False
) -> PersonPage | None:
    """The person's page at the hospital; None when the person never booked there."""
    hospital = session.scalars(select(Hospital).where(Hospital.code == hospital_code)).one_or_none()
    person = session.get(Citizen, person_id)
    if hospital is None or person is None:
        return None
    tz = ZoneInfo(hospital.timezone)
    bookings = _bookings(session, hospital.id, person_id, tz)
    if not bookings:
        return None
    holder = person.guardian or person
    return PersonPage(
        id=person.id,
        phone=masked_phone(person.phone),
        name=shown_name(person.name, real_name),
        dependant=person.guardian_id is not None,
        hospital_code=hospital.code,
        hospital_name=hospital.name,
        tz=tz,
        bookings=bookings,
        invitation_refs=_invitations(session, hospital.id, person_id),
        block=_block(session, person, now, tz),
        sms_stopped=has_phone(person.phone) and holder.reminders_opt_out,
    )


def _bookings(
    session: Session, hospital_id: int, person_id: int, tz: ZoneInfo
) -> tuple[PersonBooking, ...]:
    query = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Department, Department.id == Booking.department_id)
        .where(Booking.citizen_id == person_id, Department.hospital_id == hospital_id)
        .options(
            joinedload(Booking.slot).joinedload(Slot.department),
            joinedload(Booking.slot).joinedload(Slot.doctor),
            joinedload(Booking.vouchers),
        )
        .order_by(Slot.starts_at.desc(), Booking.ref)
    )
    return tuple(_booking(b, tz) for b in session.scalars(query).unique())


def _booking(b: Booking, tz: ZoneInfo) -> PersonBooking:
    voucher = current(b.vouchers)
    return PersonBooking(
        ref=b.ref,
        starts_at=b.slot.starts_at.astimezone(tz),
        department=b.slot.department.name,
        doctor=b.slot.doctor.name if b.slot.doctor else None,
        status=b.status,
        kind=b.kind,
        channel=b.channel,
        tcode=masked_tcode(voucher.tcode) if voucher else None,
        voucher=voucher.state if voucher else None,
        queue_number=b.queue_number,
        cancel_reason=b.cancel_reason,
    )


def _invitations(session: Session, hospital_id: int, person_id: int) -> tuple[str, ...]:
    query = (
        select(Invitation.ref)
        .join(Department, Department.id == Invitation.department_id)
        .where(Invitation.citizen_id == person_id, Department.hospital_id == hospital_id)
        .order_by(Invitation.id)
    )
    return tuple(session.scalars(query))


def _block(session: Session, person: Citizen, now: datetime, tz: ZoneInfo) -> Block | None:
    """The person's running block, with what its event says it counted."""
    if person.blocked_until is None or person.blocked_until <= now:
        return None
    # The event is the only record of why: the citizen row keeps the end alone. A block
    # wipes the slate at the instant it starts (operations.blocks), so its event was written
    # at `strikes_since`: the read starts there, not at the first event ever written.
    after = first_id_at(session, Event.id, Event.created_at, person.strikes_since or NEVER)
    payload = session.scalar(
        select(Event.payload)
        .where(Event.id > after, Event.type == BLOCKED, Event.subject_id == str(person.id))
        .order_by(Event.id.desc())
        .limit(1)
    )
    found = payload or {}
    strikes = found.get("strikes")
    return Block(
        until=person.blocked_until.astimezone(tz),
        because=found.get("because"),
        strikes=int(strikes) if strikes is not None else None,
    )
