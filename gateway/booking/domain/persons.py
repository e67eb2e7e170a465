"""The rules every booking checks of a person, pure: blocked, registered, per-person counts,
and the household rules of a phone with dependants.

A phone holds "Me" (its holder) and dependants; limits and blocks belong to each person, and
the phone itself is bounded: persons shown and ever added, live bookings across its persons,
and a block of the whole phone once enough of its persons are blocked (so a blocked person
re-added under a new name escapes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from gateway.booking.domain.errors import (
    Blocked,
    DepartmentSameDay,
    InvalidName,
    LimitPerDay,
    LimitPerPhone,
    PersonLimit,
    RegistrationRequired,
)
from gateway.settings import BookingRules, PersonRules


class Person(Protocol):
    """What the booking rules read of a person: an ORM Citizen, a CitizenRow or a PersonRow."""

    @property
    def id(self) -> int: ...
    @property
    def phone(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def national_id_hash(self) -> str | None: ...
    @property
    def blocked_until(self) -> datetime | None: ...
    @property
    def birth_year(self) -> int | None: ...
    @property
    def guardian_id(self) -> int | None: ...


def first_name(name: str | None) -> str:
    """The first word of a name, as messages and the kiosk show it ("" when there is none)."""
    return name.split()[0] if name and name.split() else ""


def named(person: Person) -> str | None:
    """The name a refusal or a confirmation about this person gives: a dependant's first name,
    never "Me"'s (the holder's read as they always have)."""
    return dependant_name(person.name, person.guardian_id)


def dependant_name(name: str | None, guardian_id: int | None) -> str | None:
    return (first_name(name) or None) if guardian_id is not None else None


def check_not_blocked(citizen: Person, now: datetime, tz: tzinfo = UTC) -> None:
    """Refuse a blocked person, naming the block's last day in the hospital's own calendar."""
    if citizen.blocked_until is not None and citizen.blocked_until > now:
        raise Blocked(until=citizen.blocked_until.astimezone(tz).date(), person=named(citizen))


def check_counts(
    on_day: int, in_department: int, rules: BookingRules, person: str | None = None
) -> None:
    """Raise when one more booking would pass the per-day or per-department limit."""
    if on_day >= rules.max_per_day:
        raise LimitPerDay(limit=rules.max_per_day, person=person)
    if in_department >= rules.max_per_department_day:
        raise DepartmentSameDay(person=person)


ADULT_AGE = 18  # from the year one turns 18, a national ID is what names a person


def check_registered(
    citizen: Person, rules: BookingRules, hospital_code: str, now: datetime
) -> None:
    """In real-name mode, refuse a person who has not given a name and a national ID; a minor
    (by birth year) has no ID, so a name and the birth year are enough."""
    year = citizen.birth_year
    minor = year is not None and now.year - year < ADULT_AGE
    if rules.real_name and not (citizen.name and (citizen.national_id_hash or minor)):
        raise RegistrationRequired(hospital=hospital_code)


@dataclass(frozen=True)
class Household:
    """What the phone-level rules read of a phone with dependants, in the booking's lock."""

    blocked_until: Sequence[datetime]  # of its persons blocked now, hidden ones included
    live_bookings: int  # active, owner-confirmed bookings of all its persons


def phone_blocked_until(household: Household, rules: PersonRules) -> datetime | None:
    """Until when the whole phone is blocked: while `blocked_persons_block_phone` of its
    persons are, i.e. until the K-th longest of their blocks ends; None when it is not."""
    k = rules.blocked_persons_block_phone
    ends = sorted(household.blocked_until, reverse=True)
    return ends[k - 1] if len(ends) >= k else None


def check_household(
    household: Household,
    rules: PersonRules,
    now: datetime,
    tz: tzinfo = UTC,
    count_limits: bool = True,
) -> None:
    """Refuse any booking of a blocked phone, and one more live booking past the phone's cap
    (`count_limits=False`: a voice claim, counted when its owner keeps it)."""
    until = phone_blocked_until(household, rules)
    if until is not None and until > now:
        raise Blocked(until=until.astimezone(tz).date())
    if count_limits and household.live_bookings >= rules.live_bookings_per_phone:
        raise LimitPerPhone(limit=rules.live_bookings_per_phone)


def check_can_add(shown_dependants: int, added_ever: int, rules: PersonRules) -> None:
    """Refuse a new dependant past the number shown at once or the phone's lifetime cap
    ("Me" counts toward the lifetime cap: it is a person of the phone too)."""
    if shown_dependants >= rules.max_dependants:
        raise PersonLimit(limit=rules.max_dependants)
    if added_ever + 1 >= rules.lifetime_per_phone:
        raise PersonLimit(limit=rules.lifetime_per_phone)


def clean_first_name(raw: str, rules: PersonRules) -> str:
    """A first name as typed on a keypad or at the desk: letters (any script), spaces, ' and -,
    at most `name_max_length` characters, first letters capitalised ("amina" → "Amina")."""
    name = " ".join(raw.split())
    valid = all(c.isalpha() or c in " '-" for c in name) and any(c.isalpha() for c in name)
    if not valid or len(name) > rules.name_max_length:
        raise InvalidName(max_length=rules.name_max_length)
    return " ".join(part[:1].upper() + part[1:] for part in name.split(" "))


NO_PHONE = "-"  # the first character of a desk-only person's placeholder phone
ERASED = "~"  # … of an anonymised person's (gateway.booking.privacy.anonymise)


def has_phone(phone: str) -> bool:
    """Whether a person's `phone` reaches anyone (E.164): not a desk-only person's placeholder
    (`-…`), nor an anonymised one's (`~…`)."""
    return phone.startswith("+")


def is_erased(phone: str) -> bool:
    """Whether the person behind this phone was anonymised (erased or aged out)."""
    return phone.startswith(ERASED)
