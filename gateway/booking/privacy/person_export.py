"""Everything the booking core holds about one person (`ors citizens export`): the right of
access. The messaging half (messages, inbound SMS) is gateway.messaging.person_export.

Plain JSON-ready values: the CLI prints them as text or JSON. The national ID shows as its
last three characters, the only part ever stored besides its keyed hash (never shown).

By phone, the export is the phone's: its holder, and its dependants as the phone knows them
(name, birth year, hidden or moved, blocks; never their ID nor where a moved one went: a grown
child's own phone is theirs). By person id (`export_person`), a dependant's export is their
own rows only; and a person registered at the desk without a phone, whom no phone finds, is
found by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.persons import has_phone
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
Held = dict[str, list[Row]]


@dataclass(frozen=True)
class PersonHeld:
    """A person's export by id, and the phone whose messages are theirs too (None: a
    dependant, whose messages go to the holder's phone, or a person without a phone)."""

    held: Held
    phone: str | None


def held_about(session: Session, phone: str) -> Held | None:
    """What is held about the phone's holder and their dependants, or None for a phone we
    do not know."""
    holder = find_citizen(session, phone)
    if holder is None:
        return None
    return _held(session, person_of(session, holder), holder.id, (phone,))


def export_person(session: Session, person_id: int) -> PersonHeld | None:
    """What is held about a person named by id, or None for no such (or an erased) person:
    a phone's holder, or one without a phone, gives their phone's export; a dependant, their
    own rows (not the holder's, nor the other dependants')."""
    person = session.get(Citizen, person_id)
    if person is None or person.anonymised_at is not None:
        return None
    if person.guardian_id is None:
        held = held_about(session, person.phone)
        assert held is not None  # a holder is found by their own phone
        return PersonHeld(held, person.phone if has_phone(person.phone) else None)
    booking_ids = session.scalars(
        select(Booking.id).where(Booking.citizen_id == person.id).order_by(Booking.id)
    )
    own = NamedPerson((), (person.id,), tuple(booking_ids))
    return PersonHeld(_held(session, own, person.id, ()), None)


def _held(session: Session, person: NamedPerson, own: int, phones: tuple[str, ...]) -> Held:
    """The export of these persons: `own` is the person whose row it gives in full, `phones`
    the phone it is of (none for a dependant's own)."""
    people = _citizens(session, person)
    names = {c.id: c.name for c in people if c.guardian_id is not None}
    booked = _bookings(session, person)
    invited = list(
        session.scalars(
            select(Invitation)
            .where(Invitation.citizen_id.in_(person.citizen_ids))
            .options(joinedload(Invitation.department).joinedload(Department.hospital))
            .order_by(Invitation.id)
        )
    )
    subjects = (
        *phones,
        *(str(i) for i in person.citizen_ids),  # what staff did to a person names their id
        *(b.ref for b in booked),
        *(i.ref for i in invited),
    )
    return {
        "citizens": [_citizen(c) if c.id == own else _dependant(c) for c in people],
        "bookings": [_booking(b, names.get(b.citizen_id)) for b in booked],
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
    """A person's own row, in full (the national ID as its last three characters)."""
    own = {
        "id": c.id,
        "phone": c.phone if has_phone(c.phone) else None,
        "name": c.name,
        "birth_year": c.birth_year,
        "national_id_last3": c.national_id_last3,
        "language": c.language,
        "reminders_off": c.reminders_opt_out,
        "consent_at": _iso(c.consent_at),
        "blocked_until": _iso(c.blocked_until),
        "strikes_since": _iso(c.strikes_since),
        "created_at": _iso(c.created_at),
    }
    return own | (_flags(c) if c.guardian_id is not None else {})


def _dependant(c: Citizen) -> Row:
    """A dependant as their phone's export shows them: no ID of any kind."""
    return {
        "name": c.name,
        "birth_year": c.birth_year,
        **_flags(c),
        "blocked_until": _iso(c.blocked_until),
        "strikes_since": _iso(c.strikes_since),
        "created_at": _iso(c.created_at),
    }


def _flags(c: Citizen) -> Row:
    # Moved: to a phone of their own, which is theirs (never named here); hidden as well.
    return {"hidden": c.hidden_at is not None, "moved": c.moved_to is not None}


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


def _booking(b: Booking, person: str | None) -> Row:
    """A booking, and whose: a dependant's name (None: the holder's own, "Me")."""
    department = b.slot.department
    tz = ZoneInfo(department.hospital.timezone)
    return {
        "ref": b.ref,
        "person": person,
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
