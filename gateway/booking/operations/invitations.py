"""Invitations (the Swedish "kallelse"): staff offer a booked slot, or a window of days.

A booked invitation takes its place at once and the citizen gets a voucher; an open one waits
for the citizen to choose a slot of that department inside the window before it expires. An
invitation is the hospital's own offer to one person, so the guards against the public (blocks,
the release horizon, real-name registration) do not apply to it; the slot's start, the
per-person limits and capacity do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.errors import (
    InvalidInvitation,
    InvitationClosed,
    NotFound,
    NotOwner,
    OutsideInvitation,
    SlotStarted,
)
from gateway.booking.models import Booking, Citizen, Department, Hospital, Invitation, Slot
from gateway.booking.operations.book import load_slot, new_booking, new_booking_ref, take_place
from gateway.booking.sql.citizens import check_person_limits, lock_citizen
from gateway.booking.sql.events import record
from gateway.settings import BookingRules, BookingSettings
from tcode.keys import SigningKey


@dataclass(frozen=True)
class InvitationInfo:
    ref: str
    status: str
    hospital: str
    department: str
    department_id: int
    sensitive: bool
    window_from: date | None
    window_to: date | None
    expires_at: datetime  # hospital-local
    booking_ref: str | None


@dataclass(frozen=True)
class Offer:
    """What staff offer: one slot, or a window of days; and until when."""

    slot_id: int | None = None
    window_from: date | None = None
    window_to: date | None = None
    expires: date | datetime | None = None  # a date means the end of that hospital-local day


def find_department(session: Session, hospital_code: str, department_code: str) -> Department:
    department = session.scalars(
        select(Department)
        .join(Hospital)
        .where(Hospital.code == hospital_code, Department.code == department_code)
        .options(joinedload(Department.hospital))
    ).one_or_none()
    if department is None:
        raise NotFound(what="department")
    return department


def invite(
    session: Session,
    booking_settings: BookingSettings,
    key: SigningKey,
    phone: str,
    department: Department,
    offer: Offer,
    by: str,
    now: datetime,
) -> Invitation:
    """Issue an invitation to the phone's holder: booked at once for a slot, else open."""
    citizen = lock_citizen(session, phone, now)
    tz = ZoneInfo(department.hospital.timezone)
    slot = _offered_slot(session, department, offer)
    expires_at = _expiry(offer, slot, tz, now)
    invitation = Invitation(
        ref=new_booking_ref(),
        citizen=citizen,
        department_id=department.id,
        slot_id=slot.id if slot else None,
        window_from=slot.day if slot else offer.window_from,
        window_to=slot.day if slot else offer.window_to,
        expires_at=expires_at,
        status="open",
        created_by=by[:64],
        created_at=now,
    )
    if slot is None:
        _check_window(offer, now.astimezone(tz).date())
    session.add(invitation)
    session.flush()
    facts: dict[str, object] = {}
    if slot is not None:
        rules = booking_settings.rules_for(department.hospital.code)
        _, facts = _book(session, invitation, citizen, slot, rules, "staff", key, now)
    record(
        session,
        "invitation.issued",
        invitation.ref,
        now,
        invitation_id=invitation.id,
        citizen_id=citizen.id,
        phone=citizen.phone,
        department_id=department.id,
        expires_at=expires_at.isoformat(),
        **facts,
    )
    return invitation


def _offered_slot(session: Session, department: Department, offer: Offer) -> Slot | None:
    has_window = offer.window_from is not None or offer.window_to is not None
    if (offer.slot_id is None) == (not has_window):
        raise InvalidInvitation(reason="give either a slot or a window of days")
    if offer.slot_id is None:
        return None
    slot = load_slot(session, offer.slot_id)
    if slot.department_id != department.id:
        raise InvalidInvitation(reason="the slot is not in that department")
    return slot


def _expiry(offer: Offer, slot: Slot | None, tz: ZoneInfo, now: datetime) -> datetime:
    if isinstance(offer.expires, datetime):
        expires_at = offer.expires
    elif isinstance(offer.expires, date):  # the whole of that day, hospital time
        expires_at = datetime.combine(offer.expires + timedelta(days=1), datetime.min.time(), tz)
    elif slot is not None:
        expires_at = slot.starts_at
    else:
        raise InvalidInvitation(reason="an open invitation needs an expiry date")
    if expires_at <= now:
        raise InvalidInvitation(reason="the expiry is in the past")
    return expires_at


def _check_window(offer: Offer, today: date) -> None:
    if offer.window_from is None or offer.window_to is None:
        raise InvalidInvitation(reason="a window needs a first and a last day")
    if offer.window_from > offer.window_to:
        raise InvalidInvitation(reason="the window ends before it starts")
    if offer.window_to < today:
        raise InvalidInvitation(reason="the window is in the past")


def book_invitation(
    session: Session,
    booking_settings: BookingSettings,
    key: SigningKey,
    phone: str,
    ref: str,
    slot_id: int,
    channel: str,
    now: datetime,
) -> tuple[Booking, bool]:
    """Book the citizen's open invitation on a slot of its window; returns (booking, created)."""
    citizen = lock_citizen(session, phone, now)
    invitation = session.scalars(
        select(Invitation).where(Invitation.ref == ref).with_for_update()
    ).one_or_none()
    if invitation is None:
        raise NotFound(what="invitation")
    if invitation.citizen_id != citizen.id:
        raise NotOwner()
    if invitation.status == "booked" and invitation.slot_id == slot_id and invitation.booking:
        return invitation.booking, False  # a retried request
    if invitation.status != "open" or invitation.expires_at <= now:
        raise InvitationClosed(
            status="expired" if invitation.status == "open" else invitation.status
        )
    slot = load_slot(session, slot_id)
    if not _offers(invitation, slot):
        raise OutsideInvitation()
    rules = booking_settings.rules_for(slot.department.hospital.code)
    booking, facts = _book(session, invitation, citizen, slot, rules, channel, key, now)
    record(session, "invitation.booked", invitation.ref, now, phone=citizen.phone, **facts)
    return booking, True


def _offers(invitation: Invitation, slot: Slot) -> bool:
    """True when `slot` is in the invitation's department and window of days."""
    first, last = invitation.window_from, invitation.window_to
    return (
        slot.department_id == invitation.department_id
        and first is not None
        and last is not None
        and first <= slot.day <= last
    )


def _book(
    session: Session,
    invitation: Invitation,
    citizen: Citizen,
    slot: Slot,
    rules: BookingRules,
    channel: str,
    key: SigningKey,
    now: datetime,
) -> tuple[Booking, dict[str, object]]:
    """Book `slot` for the invitation; return the booking and the facts its event carries."""
    if now >= slot.starts_at - timedelta(minutes=rules.min_lead_minutes):
        raise SlotStarted()
    check_person_limits(session, citizen, slot.day, slot.department_id, rules)
    # The place comes from the remote pool: the invited citizen arrives with a voucher like any
    # remote booker, the walk-in places stay for people who turn up at the desk, and the one
    # conditional UPDATE of that pool remains the only guard against overselling the session.
    take_place(session, citizen.phone, slot, now)
    booking, voucher = new_booking(session, citizen, slot, channel, "invitation", key, now)
    invitation.status, invitation.slot_id, invitation.booking = "booked", slot.id, booking
    return booking, {
        "booking_id": booking.id,
        "booking_ref": booking.ref,
        "slot_id": slot.id,
        "voucher_id": voucher.id,
    }


def withdraw(session: Session, ref: str, reason: str, now: datetime) -> Invitation:
    """Withdraw an open invitation (staff); a booked one is cancelled through its booking."""
    invitation = session.scalars(
        select(Invitation).where(Invitation.ref == ref).with_for_update()
    ).one_or_none()
    if invitation is None:
        raise NotFound(what="invitation")
    if invitation.status != "open":
        raise InvitationClosed(status=invitation.status)
    invitation.status = "cancelled"
    record(
        session,
        "invitation.cancelled",
        invitation.ref,
        now,
        invitation_id=invitation.id,
        phone=invitation.citizen.phone,
        reason=reason[:200],
    )
    return invitation


def expire_due(session: Session, now: datetime, after_id: int, limit: int) -> tuple[int, int]:
    """Expire open invitations past their expiry (a batch after `after_id`).

    Returns (how many this call expired, the last id it looked at, or 0 when none). Safe on
    several workers at once: rows another worker holds are skipped, and the conditional
    UPDATE changes each invitation once.
    """
    rows = session.execute(
        select(Invitation.id, Invitation.ref, Citizen.phone)
        .join(Citizen, Citizen.id == Invitation.citizen_id)
        .where(Invitation.status == "open", Invitation.expires_at <= now, Invitation.id > after_id)
        .order_by(Invitation.id)
        .limit(limit)
        .with_for_update(of=Invitation, skip_locked=True)
    ).all()
    expired = 0
    for invitation_id, ref, phone in rows:
        changed = session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.status == "open")
            .values(status="expired")
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            expired += 1
            record(
                session, "invitation.expired", ref, now, invitation_id=invitation_id, phone=phone
            )
    return expired, rows[-1][0] if rows else 0


def info_of(invitation: Invitation) -> InvitationInfo:
    dept = invitation.department
    return InvitationInfo(
        ref=invitation.ref,
        status=invitation.status,
        hospital=dept.hospital.name_gsm,
        department=dept.name_gsm,
        department_id=dept.id,
        sensitive=dept.sensitive,
        window_from=invitation.window_from,
        window_to=invitation.window_to,
        expires_at=invitation.expires_at.astimezone(ZoneInfo(dept.hospital.timezone)),
        booking_ref=invitation.booking.ref if invitation.booking else None,
    )


def open_invitations(session: Session, phone: str, now: datetime) -> list[InvitationInfo]:
    """The phone holder's invitations still waiting for a slot, soonest expiry first."""
    found = session.scalars(
        select(Invitation)
        .join(Citizen, Citizen.id == Invitation.citizen_id)
        .where(
            Citizen.phone == phone,
            Citizen.guardian_id.is_(None),
            Invitation.status == "open",
            Invitation.expires_at > now,
        )
        .options(joinedload(Invitation.department).joinedload(Department.hospital))
        .order_by(Invitation.expires_at, Invitation.id)
    )
    return [info_of(i) for i in found]
