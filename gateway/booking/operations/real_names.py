"""Real-name registration of a phone's persons, one answer at a time (the phone menus).

A hospital in real-name mode books only persons with a name and a national ID (a minor, by
birth year, needs no ID: domain.persons.check_registered). The menus ask for what a person
lacks, one screen per item, and each answer is stored at once, in its own unit of work under
the household's lock (the holder's row, which every booking of the phone takes first): a
caller who hangs up half-way keeps what they gave, and nothing personal waits in a session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from gateway.booking.domain.errors import InvalidRegistration, NotFound
from gateway.booking.domain.persons import ADULT_AGE
from gateway.booking.models import Citizen
from gateway.booking.operations.persons import check_birth_year
from gateway.booking.operations.registration import (
    NationalId,
    clean_name,
    register,
    register_id,
)
from gateway.booking.sql import persons
from gateway.booking.sql.citizens import CitizenRow, lock_row
from gateway.booking.sql.executor import Executor

# What a person may still lack, in the order the menus ask for it.
NAME, BIRTH_YEAR, NATIONAL_ID = "name", "birth_year", "national_id"
CITIZENS = Citizen.__table__


def missing(person: CitizenRow | None, now: datetime) -> tuple[str, ...]:
    """What the person lacks to book in real-name mode (nothing: registered). A dependant's
    birth year comes before their ID: a minor needs none. None: a phone never seen."""
    if person is None:
        return (NAME, NATIONAL_ID)
    year = person.birth_year
    minor = year is not None and now.year - year < ADULT_AGE
    lacks = [] if person.name else [NAME]
    if person.national_id_hash is None and not minor:
        if person.guardian_id is not None and year is None:
            lacks.append(BIRTH_YEAR)
        lacks.append(NATIONAL_ID)
    return tuple(lacks)


def needs(db: Executor, phone: str, person_id: int | None, now: datetime) -> tuple[str, ...]:
    """What a person of the phone (None: its holder) lacks; a read, taking no lock."""
    holder_id = persons.holder_id_by_phone(db, phone)
    if holder_id is None:
        if person_id is not None:
            raise NotFound(what="person")
        return missing(None, now)
    return missing(_person(db, holder_id, person_id), now)


def register_person(
    db: Connection,
    phone: str,
    person_id: int | None,
    now: datetime,
    name: str | None = None,
    birth_year: int | None = None,
    national_id: NationalId | None = None,
) -> tuple[str, ...]:
    """Store one answer of a person of the phone (None: its holder): their full name, a
    dependant's birth year, or the national ID (hashed already); return what they still lack."""
    holder = lock_row(db, phone, now)
    person = _person(db, holder.id, person_id)
    if name is not None:
        _set(db, person.id, name=clean_name(name))
    if birth_year is not None:
        if person.guardian_id is None:  # a holder is named by an ID, never by a birth year
            raise InvalidRegistration(field="birth_year")
        _set(db, person.id, birth_year=check_birth_year(birth_year, now))
    if national_id is not None:
        _register_id(db, phone, _person(db, holder.id, person_id), national_id, now)
    return missing(_person(db, holder.id, person_id), now)


def _register_id(
    db: Connection, phone: str, person: CitizenRow, national_id: NationalId, now: datetime
) -> None:
    if person.guardian_id is not None:
        register_id(db, person.id, national_id)
    elif not person.name:  # the holder's ID is registered with their name, never alone
        raise InvalidRegistration(field="name")
    else:
        register(db, phone, person.name, national_id, now)


def _person(db: Executor, holder_id: int, person_id: int | None) -> CitizenRow:
    """The holder, or a dependant shown on their phone; else NotFound (hidden at the desk)."""
    wanted = holder_id if person_id is None else person_id
    if wanted != holder_id and not persons.is_shown_dependant(db, wanted, holder_id):
        raise NotFound(what="person")
    found = persons.find(db, wanted)
    if found is None:
        raise NotFound(what="person")
    return found


def _set(db: Connection, person_id: int, **values: object) -> None:
    db.execute(update(CITIZENS).where(CITIZENS.c.id == person_id).values(**values))
