"""Anonymise people: what `ors citizens erase` and the retention sweep do to a phone's holder.

The phone becomes a placeholder that is no phone and stays unique (`~<citizen id>`: no caller
can ever match it, and the holder's unique phone index holds); name, birth year and national
ID (hash, key id, last three) are gone; holds, one-time codes and moves asked for by SMS are
deleted; the bookings' idempotency keys (they hold the provider's session) are cleared, and
staff audit rows that named the phone name a stand-in instead. Booking rows stay — day, department, status — so
statistics keep their counts. The phone's dependants (citizens.guardian_id) go with their
holder: they share the phone. Hidden ones go too, and the row a dependant who moved to a
phone of their own left under this one (their history here); the new phone's row is its own
holder, and stays. Messages and events are the callers' part (gateway.messaging.retention,
gateway.booking.privacy.erasure): the booking core never sees messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.orm import Session

from gateway.booking.domain.persons import ERASED
from gateway.booking.models import (
    Booking,
    Citizen,
    Hold,
    PersonMove,
    PhoneChallenge,
    StaffAction,
)
from gateway.booking.sql import holds

PLACEHOLDER = ERASED


def placeholder(citizen_id: int) -> str:
    """The stand-in for an anonymised citizen's phone: never a phone (E.164 starts with +)."""
    return f"{PLACEHOLDER}{citizen_id}"


@dataclass(frozen=True)
class Anonymised:
    """One phone's holder as they were, for the caller's own part (never to be logged)."""

    citizen_id: int
    phone: str
    people: tuple[int, ...]  # the holder and their dependants
    booking_ids: tuple[int, ...]


# (old phone, holder id) -> what staff audit rows that named the phone say instead
AuditSubject = Callable[[str, int], str]


def anonymise(
    session: Session,
    holder_ids: Sequence[int],
    now: datetime,
    audit_subject: AuditSubject | None = None,
) -> list[Anonymised]:
    """Anonymise these holders (rows the caller has locked) and their dependants; holders
    anonymised already are left as they are."""
    holders = dict(
        session.execute(
            select(Citizen.id, Citizen.phone).where(
                Citizen.id.in_(holder_ids),
                Citizen.guardian_id.is_(None),
                Citizen.anonymised_at.is_(None),
            )
        ).all()
    )
    if not holders:
        return []
    people = _people(session, list(holders))
    everyone = [pid for ids in people.values() for pid in ids]
    bookings = _bookings(session, everyone)
    phones = list(holders.values())
    _drop_holds(session, everyone, phones, now)
    session.execute(delete(PhoneChallenge).where(PhoneChallenge.phone.in_(phones)))
    session.execute(  # moves asked for by SMS: to one of these phones, or of these persons
        delete(PersonMove).where(
            or_(PersonMove.new_phone.in_(phones), PersonMove.guardian_id.in_(everyone))
        )
    )
    session.execute(
        update(Booking)
        .where(Booking.citizen_id.in_(everyone), Booking.idempotency_key.is_not(None))
        .values(idempotency_key=None)
        .execution_options(synchronize_session=False)
    )
    for holder_id, phone in holders.items():
        subject = (audit_subject or _stand_in)(phone, holder_id)
        session.execute(
            update(StaffAction)
            .where(StaffAction.subject == phone)
            .values(subject=subject)
            .execution_options(synchronize_session=False)
        )
    _clear(session, everyone, now)
    return [
        Anonymised(
            holder_id,
            phone,
            tuple(people[holder_id]),
            tuple(b for b, owner in bookings if owner in people[holder_id]),
        )
        for holder_id, phone in holders.items()
    ]


def _stand_in(phone: str, holder_id: int) -> str:
    return placeholder(holder_id)


def _people(session: Session, holder_ids: list[int]) -> dict[int, list[int]]:
    """Each holder with their dependants, rows locked (a holder's lock order comes first)."""
    rows = session.execute(
        select(Citizen.id, Citizen.guardian_id)
        .where(or_(Citizen.id.in_(holder_ids), Citizen.guardian_id.in_(holder_ids)))
        .order_by(Citizen.id)
        .with_for_update()
    ).all()
    people: dict[int, list[int]] = {holder_id: [holder_id] for holder_id in holder_ids}
    for citizen_id, guardian_id in rows:
        if guardian_id is not None:
            people[guardian_id].append(citizen_id)
    return people


def _bookings(session: Session, citizen_ids: list[int]) -> list[tuple[int, int]]:
    rows = session.execute(
        select(Booking.id, Booking.citizen_id).where(Booking.citizen_id.in_(citizen_ids))
    ).all()
    return [(booking_id, citizen_id) for booking_id, citizen_id in rows]


def _drop_holds(session: Session, citizen_ids: list[int], phones: list[str], now: datetime) -> None:
    """Delete their holds, giving each place back (no event: nobody is to be told)."""
    rows = session.execute(
        select(*holds.COLUMNS).where(or_(Hold.citizen_id.in_(citizen_ids), Hold.phone.in_(phones)))
    ).all()
    for row in rows:
        holds.drop_hold(session, holds.HoldRow(*row), now, None)


def _clear(session: Session, citizen_ids: list[int], now: datetime) -> None:
    session.execute(
        update(Citizen)
        .where(Citizen.id.in_(citizen_ids), Citizen.anonymised_at.is_(None))
        .values(
            phone=literal(PLACEHOLDER) + cast(Citizen.id, String),
            name=None,
            birth_year=None,
            national_id_hash=None,
            national_id_key=None,
            national_id_last3=None,
            anonymised_at=now,
        )
        .execution_options(synchronize_session=False)
    )
