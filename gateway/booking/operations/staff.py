"""What staff do from the CLI and the desk: each use case, then one row of the audit trail.

The row joins the use case's transaction, so an action that is refused or rolled back leaves
no trace of having happened.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain.errors import NotFound
from gateway.booking.operations import blocks, close_session, invitations, registration
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.close_session import CloseReport as CloseReport
from gateway.booking.sql import persons
from gateway.booking.sql.citizens import lock_row
from gateway.booking.views.departments import department_id
from gateway.settings import BookingSettings
from tcode.keys import SigningKey


def close_day(
    db: Connection, hospital_code: str, department_code: str, day: date, reason: str, by: str,
    now: datetime,
) -> CloseReport:  # fmt: skip
    """Close a department's day: cancel its bookings, book no more."""
    department = department_id(db, hospital_code, department_code)
    report = close_session.close_session(db, department, day, reason, now)
    subject = f"{hospital_code}/{department_code}/{day.isoformat()}"
    record_staff_action(db, by, "close_session", subject, reason, now)
    return report


def invite(
    db: Connection, catalogue: CatalogueCache, booking_settings: BookingSettings, key: SigningKey,
    phone: str, hospital_code: str, department_code: str, offer: invitations.Offer, by: str,
    now: datetime, person_id: int | None = None,
) -> invitations.InvitationInfo:  # fmt: skip
    """Invite a person of the phone (None: its holder): a booked slot, or an open window."""
    dept_id = department_id(db, hospital_code, department_code)
    info = invitations.invite(
        db, catalogue, booking_settings, key, phone, dept_id, offer, by, now, person_id
    )
    record_staff_action(db, by, "invite", info.ref, "", now)
    return info


def withdraw_invitation(
    db: Connection, catalogue: CatalogueCache, ref: str, by: str, reason: str, now: datetime
) -> invitations.InvitationInfo:
    """Withdraw an open invitation."""
    withdrawn = invitations.withdraw(db, ref, reason, now)
    record_staff_action(db, by, "withdraw_invitation", ref, reason, now)
    return invitations.info_of(catalogue, withdrawn)


def unblock(
    db: Connection, phone: str, by: str, reason: str, now: datetime, person_id: int | None = None
) -> None:
    """Lift the block of a person of the phone (None: its holder); raise NotBlocked when
    there is none. The holder's row is locked first, as a booking of the household does."""
    holder = lock_row(db, phone, now)
    person = holder if person_id is None else persons.find(db, person_id)
    if person is None or person.id not in {p.id for p in persons.all_of(db, holder.id)}:
        raise NotFound(what="person")
    blocks.lift(db, person.id, reason, now)
    record_staff_action(db, by, "unblock", phone, reason, now)


def reassign_id(
    db: Connection, phone: str, national_id: registration.NationalId, by: str, reason: str,
    now: datetime,
) -> None:  # fmt: skip
    """Move a national ID to this phone's holder, from whoever had it."""
    registration.reassign(db, lock_row(db, phone, now), national_id, now)
    record_staff_action(db, by, "reassign_id", phone, reason, now)
