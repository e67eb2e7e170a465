"""The persons of a phone: add a dependant (USSD or the desk), hide one, register a person
with no phone at the desk, and move a dependant to a phone of their own.

Every change to a household locks its holder's row first, as every booking of it does, so
the lifetime cap and the per-phone rules never count past a parallel request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from gateway.booking.domain.errors import InvalidRegistration, NotFound, PhoneInUse
from gateway.booking.domain.persons import check_can_add, clean_first_name
from gateway.booking.models import Booking, Citizen, Invitation, Slot
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.registration import NationalId, register_id
from gateway.booking.sql import persons
from gateway.booking.sql.citizens import CitizenRow, lock_row
from gateway.booking.sql.persons import PersonInfo
from gateway.settings import PersonRules

CITIZENS, BOOKINGS, SLOTS = Citizen.__table__, Booking.__table__, Slot.__table__
INVITATIONS = Invitation.__table__
EARLIEST_BIRTH_YEAR = 1900


def check_birth_year(year: int | None, now: datetime) -> int | None:
    if year is not None and not EARLIEST_BIRTH_YEAR <= year <= now.year:
        raise InvalidRegistration(field="birth_year")
    return year


def add(
    db: Connection,
    phone: str,
    raw_name: str,
    rules: PersonRules,
    now: datetime,
    birth_year: int | None = None,
    national_id: NationalId | None = None,
    actor: str | None = None,
) -> PersonInfo:
    """Add a dependant to the phone (created on first contact like any caller's); staff
    `actor` adding one at the desk is audited."""
    name = clean_first_name(raw_name, rules)
    check_birth_year(birth_year, now)
    holder = lock_row(db, phone, now)
    check_can_add(persons.count_shown_dependants(db, holder.id), holder.persons_added, rules)
    person_id = persons.add_dependant(db, holder, name, birth_year, now)
    if national_id is not None:
        register_id(db, person_id, national_id)
    if actor is not None:
        record_staff_action(db, actor, "add_person", str(person_id), "", now)
    return PersonInfo(person_id, name, me=False, birth_year=birth_year)


def shown(db: Connection, phone: str) -> list[PersonInfo]:
    """The phone's persons, "Me" first (a phone that never called has only "Me")."""
    return persons.shown(db, phone) or [PersonInfo(0, None, me=True)]


def hide(db: Connection, phone: str, person_id: int, now: datetime, actor: str | None) -> None:
    """Hide a dependant: never deleted, so their strikes and blocks still count for the phone."""
    holder = lock_row(db, phone, now)
    if not persons.hide(db, holder.id, person_id, now):
        raise NotFound(what="person")
    if actor is not None:
        record_staff_action(db, actor, "hide_person", str(person_id), "", now)


def register_without_phone(
    db: Connection,
    raw_name: str,
    rules: PersonRules,
    now: datetime,
    actor: str,
    birth_year: int | None = None,
    national_id: NationalId | None = None,
) -> PersonInfo:
    """A person with no phone at all, registered at the desk (their voucher is printed)."""
    name = clean_first_name(raw_name, rules) if national_id is None else " ".join(raw_name.split())
    check_birth_year(birth_year, now)
    person_id = persons.add_without_phone(db, name, birth_year, now)
    if national_id is not None:
        register_id(db, person_id, national_id)
    record_staff_action(db, actor, "register_person", str(person_id), "no phone", now)
    return PersonInfo(person_id, name, me=True, birth_year=birth_year)


def move(
    db: Connection, person_id: int, new_phone: str, now: datetime, actor: str, reason: str
) -> int:
    """Move a dependant to a phone of their own (staff at the desk); returns the person who
    now holds that phone.

    The new phone's holder takes the person's name, birth year, national ID and any block
    (a move never lifts one), and their future bookings and open invitations; their history
    stays with the old row, hidden under the guardian's phone. Refused when the new phone
    already belongs to someone (a name, an ID, a booking or dependants of its own).
    """
    guardian_id = persons.holder_of(db, person_id)
    if guardian_id is None or guardian_id == person_id:
        raise NotFound(what="person")  # no such person, or a holder: nothing to move from
    target = lock_both(db, guardian_id, new_phone, now)
    if target.id == guardian_id or not persons.is_shown_dependant(db, person_id, guardian_id):
        raise NotFound(what="person")  # their own phone already, or hidden or moved before
    check_phone_free(db, target)
    persons.move_identity(db, person_id, target.id, now)
    persons.move_future(db, person_id, target.id, now)
    record_staff_action(db, actor, "move_person", str(person_id), reason, now)
    return target.id


def check_phone_free(db: Connection, holder: CitizenRow) -> None:
    """Refuse a phone that belongs to someone already: a name, an ID, a booking, an
    invitation or dependants of its own (the guardian's own phone among them)."""
    if holder.name or holder.national_id_hash or persons.in_use(db, holder.id):
        raise PhoneInUse()


def lock_both(db: Connection, guardian_id: int, new_phone: str, now: datetime) -> CitizenRow:
    """Lock the guardian's row and the new phone's holder in id order, as every multi-row lock
    of citizens goes; returns the new phone's holder (created on first sight, so its id is the
    newest and comes last)."""
    known = persons.holder_id_by_phone(db, new_phone)
    if known is not None and known < guardian_id:
        lock_row(db, new_phone, now)
    persons.lock_person(db, guardian_id)
    return lock_row(db, new_phone, now)
