"""Invitations (the Swedish "kallelse"): staff offer a booked slot, or a window of days.

A booked invitation takes its place at once and the citizen gets a voucher; an open one waits
for the citizen to choose a slot of that department inside the window before it expires. An
invitation is the hospital's own offer to one person, so the guards against the public (blocks,
the release horizon, real-name registration) do not apply to it; the slot's start, the
per-person limits and capacity do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, insert, select, update

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain import events
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import (
    InvalidInvitation,
    InvitationClosed,
    NotFound,
    NotOwner,
    OutsideInvitation,
)
from gateway.booking.domain.states import INVITATION, InvitationStatus
from gateway.booking.models import Booking, Citizen, Invitation
from gateway.booking.operations.book import STAFF_CHANNEL, consents, place_held_or_free
from gateway.booking.sql import admission, persons
from gateway.booking.sql.bookings import NewBooking, Place, insert_booking, new_booking_ref
from gateway.booking.sql.citizens import CitizenRow, lock_row
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.events import record
from gateway.booking.sql.guards import may, value
from gateway.settings import BookingSettings
from tcode.keys import SigningKey

INVITATIONS, CITIZENS, BOOKINGS = Invitation.__table__, Citizen.__table__, Booking.__table__


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


@dataclass(frozen=True)
class InvitationRow:
    id: int
    ref: str
    citizen_id: int
    phone: str
    department_id: int
    slot_id: int | None
    window_from: date | None
    window_to: date | None
    expires_at: datetime
    status: str
    booking_id: int | None


_COLUMNS = (
    INVITATIONS.c.id,
    INVITATIONS.c.ref,
    INVITATIONS.c.citizen_id,
    CITIZENS.c.phone,
    INVITATIONS.c.department_id,
    INVITATIONS.c.slot_id,
    INVITATIONS.c.window_from,
    INVITATIONS.c.window_to,
    INVITATIONS.c.expires_at,
    INVITATIONS.c.status,
    INVITATIONS.c.booking_id,
)
_WITH_CITIZEN = select(*_COLUMNS).join(CITIZENS, CITIZENS.c.id == INVITATIONS.c.citizen_id)
_LOCK = DriverStatement(
    _WITH_CITIZEN.where(INVITATIONS.c.ref == bindparam("ref")).with_for_update(of=INVITATIONS)
)
_OPEN = DriverStatement(
    _WITH_CITIZEN.where(
        # Every person of the phone: a dependant's phone is the holder's.
        CITIZENS.c.phone == bindparam("phone"),
        INVITATIONS.c.status == value(InvitationStatus.OPEN),
        INVITATIONS.c.expires_at > bindparam("now"),
    ).order_by(INVITATIONS.c.expires_at, INVITATIONS.c.id)
)
_DUE = DriverStatement(
    _WITH_CITIZEN.where(
        may(INVITATIONS.c.status, INVITATION, "expire"),
        INVITATIONS.c.expires_at <= bindparam("now"),
        INVITATIONS.c.id > bindparam("after_id"),
    )
    .order_by(INVITATIONS.c.id)
    .limit(bindparam("limit"))
    .with_for_update(of=INVITATIONS, skip_locked=True)
)
_INSERT = DriverStatement(insert(INVITATIONS).returning(INVITATIONS.c.id))


def _move(operation: str, **values: Any) -> DriverStatement:
    """A conditional UPDATE of one invitation along its lifecycle (rowcount 0: it moved)."""
    return DriverStatement(
        update(INVITATIONS)
        .where(
            INVITATIONS.c.id == bindparam("invitation_id"),
            may(INVITATIONS.c.status, INVITATION, operation),
        )
        .values(status=value(INVITATION.target(operation)), **values)
    )


_BOOK = _move("book", slot_id=bindparam("slot_id"), booking_id=bindparam("booking_id"))
_WITHDRAW = _move("withdraw")
_EXPIRE = _move("expire")


def _locked(db: Connection, ref: str) -> InvitationRow:
    row = _LOCK.run(db, {"ref": ref}).first()
    if row is None:
        raise NotFound(what="invitation")
    return InvitationRow(*row)


def invite(
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    key: SigningKey,
    phone: str,
    department_id: int,
    offer: Offer,
    by: str,
    now: datetime,
    person_id: int | None = None,
) -> InvitationInfo:
    """Issue an invitation to a person of the phone (None: its holder): booked at once for a
    slot, else open."""
    citizen, _ = persons.for_booking(db, lock_row(db, phone, now), person_id, now)
    dept = catalogue.department(department_id)
    slot = _offered_slot(db, citizen, phone, dept, offer, now)
    expires_at = _expiry(offer, slot, dept.timezone, now)
    booked: NewBooking | None = None
    if slot is None:
        _check_window(offer, now.astimezone(dept.timezone).date())
    else:
        booked = _book(db, booking_settings, citizen, phone, slot, dept, STAFF_CHANNEL, key, now)
    ref = new_booking_ref()
    window = (slot.day, slot.day) if slot else (offer.window_from, offer.window_to)
    status = InvitationStatus.BOOKED if booked else InvitationStatus.OPEN
    values = {
        "ref": ref,
        "citizen_id": citizen.id,
        "department_id": dept.id,
        "slot_id": slot.slot_id if slot else None,
        "window_from": window[0],
        "window_to": window[1],
        "expires_at": expires_at,
        "status": value(status),
        "booking_id": booked.id if booked else None,
        "created_by": by[:64],
        "created_at": now,
    }
    invitation_id = _INSERT.run(db, values).scalar_one()
    event = events.invitation_issued(
        ref,
        invitation_id=invitation_id,
        citizen_id=citizen.id,
        phone=phone,
        department_id=dept.id,
        expires_at=expires_at,
        booking_id=booked.id if booked else None,
        booking_ref=booked.ref if booked else None,
        slot_id=slot.slot_id if slot else None,
        voucher_id=booked.voucher.id if booked else None,
    )
    record(db, event, now)
    booking_ref = booked.ref if booked else None
    return _info(ref, status, dept, window[0], window[1], expires_at, booking_ref)


def _offered_slot(
    db: Connection,
    citizen: CitizenRow,
    phone: str,
    dept: DepartmentInfo,
    offer: Offer,
    now: datetime,
) -> admission.Admission | None:
    has_window = offer.window_from is not None or offer.window_to is not None
    if (offer.slot_id is None) == (not has_window):
        raise InvalidInvitation(reason="give either a slot or a window of days")
    if offer.slot_id is None:
        return None
    slot = admission.read(db, citizen.id, phone, offer.slot_id, now)
    if slot.department_id != dept.id:
        raise InvalidInvitation(reason="the slot is not in that department")
    return slot


def _expiry(
    offer: Offer, slot: admission.Admission | None, tz: ZoneInfo, now: datetime
) -> datetime:
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
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    key: SigningKey,
    phone: str,
    ref: str,
    slot_id: int,
    channel: str,
    now: datetime,
) -> tuple[str, bool]:
    """Book the citizen's open invitation on a slot of its window; returns (booking ref, created)."""
    holder = lock_row(db, phone, now, consent=consents(channel))
    invitation = _locked(db, ref)
    try:  # an invitation of any shown person of the phone is the phone's to take up
        citizen, _ = persons.for_booking(db, holder, invitation.citizen_id, now)
    except NotFound:
        raise NotOwner() from None
    if invitation.status == InvitationStatus.BOOKED and invitation.slot_id == slot_id:
        earlier = _booking_ref(db, invitation.booking_id)
        if earlier is not None:
            return earlier, False  # a retried request
    if not INVITATION.allows("book", invitation.status) or invitation.expires_at <= now:
        open_ = INVITATION.allows("book", invitation.status)
        raise InvitationClosed(status=InvitationStatus.EXPIRED if open_ else invitation.status)
    slot = admission.read(db, citizen.id, phone, slot_id, now)
    if not _offers(invitation, slot):
        raise OutsideInvitation()
    dept = catalogue.department(slot.department_id)
    booked = _book(db, booking_settings, citizen, phone, slot, dept, channel, key, now)
    params = {"invitation_id": invitation.id, "slot_id": slot_id, "booking_id": booked.id}
    if _BOOK.run(db, params).rowcount != 1:
        raise InvitationClosed(status=invitation.status)
    event = events.invitation_booked(
        invitation.ref,
        phone=phone,
        booking_id=booked.id,
        booking_ref=booked.ref,
        slot_id=slot_id,
        voucher_id=booked.voucher.id,
    )
    record(db, event, now)
    return booked.ref, True


def _offers(invitation: InvitationRow, slot: admission.Admission) -> bool:
    """True when `slot` is in the invitation's department and window of days."""
    first, last = invitation.window_from, invitation.window_to
    return (
        slot.department_id == invitation.department_id
        and first is not None
        and last is not None
        and first <= slot.day <= last
    )


def _book(
    db: Connection,
    booking_settings: BookingSettings,
    citizen: CitizenRow,
    phone: str,
    slot: admission.Admission,
    dept: DepartmentInfo,
    channel: str,
    key: SigningKey,
    now: datetime,
) -> NewBooking:
    """Book `slot` for an invitation (announced by the invitation's own event)."""
    rules = booking_settings.rules_for(dept.hospital_code)
    admission.admit(citizen, slot, dept, rules, now, public=False)
    # The place comes from the remote pool: the invited citizen arrives with a voucher like any
    # remote booker, the walk-in places stay for people who turn up at the desk, and the one
    # conditional UPDATE of that pool remains the only guard against overselling the session.
    place_held_or_free(db, slot.hold, citizen.id, slot.slot_id, dept, now)
    place = Place(slot.slot_id, slot.department_id, slot.day, dept.hospital_code)
    return insert_booking(
        db, citizen.id, phone, place, channel, key, now, kind="invitation", announce=False
    )


_BOOKING_REF = DriverStatement(
    select(BOOKINGS.c.ref).where(BOOKINGS.c.id == bindparam("booking_id"))
)


def _booking_ref(db: Connection, booking_id: int | None) -> str | None:
    if booking_id is None:
        return None
    ref = _BOOKING_REF.run(db, {"booking_id": booking_id}).scalar()
    return str(ref) if ref is not None else None


def withdraw(db: Connection, ref: str, reason: str, now: datetime) -> InvitationRow:
    """Withdraw an open invitation (staff); a booked one is cancelled through its booking."""
    invitation = _locked(db, ref)
    if not INVITATION.allows("withdraw", invitation.status):
        raise InvitationClosed(status=invitation.status)
    if _WITHDRAW.run(db, {"invitation_id": invitation.id}).rowcount != 1:
        raise InvitationClosed(status=invitation.status)
    event = events.invitation_cancelled(
        invitation.ref, invitation_id=invitation.id, phone=invitation.phone, reason=reason
    )
    record(db, event, now)
    return replace(invitation, status=value(INVITATION.target("withdraw")))


def expire_due(db: Connection, now: datetime, after_id: int, limit: int) -> tuple[int, int]:
    """Expire open invitations past their expiry (a batch after `after_id`).

    Returns (how many this call expired, the last id it looked at, or 0 when none). Safe on
    several workers at once: rows another worker holds are skipped, and the conditional
    UPDATE changes each invitation once.
    """
    found = _DUE.run(db, {"now": now, "after_id": after_id, "limit": limit})
    rows = [InvitationRow(*row) for row in found]
    expired = 0
    for invitation in rows:
        if _EXPIRE.run(db, {"invitation_id": invitation.id}).rowcount == 1:
            expired += 1
            event = events.invitation_expired(
                invitation.ref, invitation_id=invitation.id, phone=invitation.phone
            )
            record(db, event, now)
    return expired, rows[-1].id if rows else 0


def open_invitations(
    db: Connection, catalogue: CatalogueCache, phone: str, now: datetime
) -> list[InvitationInfo]:
    """The invitations of the phone's persons still waiting for a slot, soonest expiry first."""
    rows: Sequence[Sequence[Any]] = _OPEN.run(db, {"phone": phone, "now": now}).rows
    return [info_of(catalogue, InvitationRow(*row)) for row in rows]


def info_of(catalogue: CatalogueCache, invitation: InvitationRow) -> InvitationInfo:
    """What staff and the menus are told of an open or withdrawn invitation."""
    dept = catalogue.department(invitation.department_id)
    return _info(
        invitation.ref,
        invitation.status,
        dept,
        invitation.window_from,
        invitation.window_to,
        invitation.expires_at,
        None,  # open or withdrawn: no booking
    )


def _info(
    ref: str,
    status: str,
    dept: DepartmentInfo,
    window_from: date | None,
    window_to: date | None,
    expires_at: datetime,
    booking_ref: str | None,
) -> InvitationInfo:
    return InvitationInfo(
        ref=ref,
        status=str(status),
        hospital=dept.hospital_name_gsm,
        department=dept.name_gsm,
        department_id=dept.id,
        sensitive=dept.sensitive,
        window_from=window_from,
        window_to=window_to,
        expires_at=expires_at.astimezone(dept.timezone),
        booking_ref=booking_ref,
    )
