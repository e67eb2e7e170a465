"""Everything the booking core holds about one person (`ors citizens export`): the right of
access. The messaging half (messages, inbound SMS) is gateway.messaging.person_export.

Plain JSON-ready values: the CLI prints them as text or JSON. The national ID shows as its
last three characters, the only part ever stored besides its keyed hash (never shown).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.models import (
    Booking,
    Citizen,
    Department,
    Event,
    Hold,
    Invitation,
    Slot,
    StaffAction,
)
from gateway.booking.sql.citizens import find_citizen
from gateway.booking.sql.naming import NamedPerson, events_naming, person_of

Row = dict[str, Any]


def held_about(session: Session, phone: str) -> dict[str, list[Row]] | None:
    """What is held about the phone's holder and their dependants, or None for a phone we
    do not know."""
    holder = find_citizen(session, phone)
    if holder is None:
        return None
    person = person_of(session, holder)
    booked = _bookings(session, person)
    invited = list(
        session.scalars(
            select(Invitation)
            .where(Invitation.citizen_id.in_(person.citizen_ids))
            .options(joinedload(Invitation.department).joinedload(Department.hospital))
            .order_by(Invitation.id)
        )
    )
    subjects = (phone, *(b.ref for b in booked), *(i.ref for i in invited))
    return {
        "citizens": [_citizen(c) for c in _citizens(session, person)],
        "bookings": [_booking(b) for b in booked],
        "invitations": [_invitation(i) for i in invited],
        "holds": _holds(session, person),
        "events": [_event(e) for window in events_naming(session, person) for e in window],
        "audit": _audit(session, subjects),
    }


def _citizens(session: Session, person: NamedPerson) -> list[Citizen]:
    return list(
        session.scalars(
            select(Citizen).where(Citizen.id.in_(person.citizen_ids)).order_by(Citizen.id)
        )
    )


def _citizen(c: Citizen) -> Row:
    return {
        "id": c.id,
        "phone": c.phone,
        "dependant_of": c.guardian_id,
        "name": c.name,
        "national_id_last3": c.national_id_last3,
        "language": c.language,
        "reminders_off": c.reminders_opt_out,
        "consent_at": _iso(c.consent_at),
        "blocked_until": _iso(c.blocked_until),
        "strikes_since": _iso(c.strikes_since),
        "created_at": _iso(c.created_at),
    }


def _bookings(session: Session, person: NamedPerson) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.citizen_id.in_(person.citizen_ids))
            .options(
                joinedload(Booking.slot)
                .joinedload(Slot.department)
                .joinedload(Department.hospital),
                joinedload(Booking.vouchers),
            )
            .order_by(Booking.id)
        ).unique()
    )


def _booking(b: Booking) -> Row:
    department = b.slot.department
    tz = ZoneInfo(department.hospital.timezone)
    return {
        "ref": b.ref,
        "citizen_id": b.citizen_id,
        "hospital": department.hospital.name,
        "department": department.name,
        "starts_at": b.slot.starts_at.astimezone(tz).isoformat(),
        "status": b.status,
        "channel": b.channel,
        "kind": b.kind,
        "unconfirmed": b.unconfirmed,
        "created_at": _iso(b.created_at),
        "cancelled_at": _iso(b.cancelled_at),
        "cancelled_by": b.cancelled_by,
        "cancel_reason": b.cancel_reason,
        "checked_in_at": _iso(b.checked_in_at),
        "no_show_at": _iso(b.no_show_at),
        "queue_number": b.queue_number,
        "vouchers": [
            {"tcode": v.tcode, "state": v.state, "created_at": _iso(v.created_at)}
            for v in b.vouchers
        ],
    }


def _invitation(i: Invitation) -> Row:
    return {
        "ref": i.ref,
        "hospital": i.department.hospital.name,
        "department": i.department.name,
        "status": i.status,
        "window_from": i.window_from.isoformat() if i.window_from else None,
        "window_to": i.window_to.isoformat() if i.window_to else None,
        "expires_at": _iso(i.expires_at),
        "created_by": i.created_by,
        "created_at": _iso(i.created_at),
    }


def _holds(session: Session, person: NamedPerson) -> list[Row]:
    rows = session.execute(
        select(Hold.slot_id, Hold.created_at, Hold.expires_at).where(
            or_(Hold.citizen_id.in_(person.citizen_ids), Hold.phone.in_(person.phones))
        )
    ).all()
    return [
        {"slot_id": slot_id, "created_at": _iso(created), "expires_at": _iso(expires)}
        for slot_id, created, expires in rows
    ]


def _event(e: Event) -> Row:
    return {
        "id": e.id,
        "type": e.type,
        "subject": e.subject_id,
        "created_at": _iso(e.created_at),
        "payload": e.payload,
    }


def _audit(session: Session, subjects: tuple[str, ...]) -> list[Row]:
    rows = session.scalars(
        select(StaffAction).where(StaffAction.subject.in_(subjects)).order_by(StaffAction.id)
    )
    return [
        {
            "action": a.action,
            "subject": a.subject,
            "by": a.actor,
            "reason": a.reason,
            "at": _iso(a.at),
        }
        for a in rows
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
