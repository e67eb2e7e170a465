"""The rules every booking checks of a person, pure: blocked, registered, per-person counts."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Protocol

from gateway.booking.domain.errors import (
    Blocked,
    DepartmentSameDay,
    LimitPerDay,
    RegistrationRequired,
)
from gateway.settings import BookingRules


class Person(Protocol):
    """What the booking rules read of a citizen: an ORM Citizen or a CitizenRow."""

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


def check_not_blocked(citizen: Person, now: datetime, tz: tzinfo = UTC) -> None:
    """Refuse a blocked citizen, naming the block's last day in the hospital's own calendar."""
    if citizen.blocked_until is not None and citizen.blocked_until > now:
        raise Blocked(until=citizen.blocked_until.astimezone(tz).date())


def check_counts(on_day: int, in_department: int, rules: BookingRules) -> None:
    """Raise when one more booking would pass the per-day or per-department limit."""
    if on_day >= rules.max_per_day:
        raise LimitPerDay(limit=rules.max_per_day)
    if in_department >= rules.max_per_department_day:
        raise DepartmentSameDay()


def check_registered(citizen: Person, rules: BookingRules, hospital_code: str) -> None:
    """In real-name mode, refuse a citizen who has not given both name and national ID."""
    if rules.real_name and not (citizen.name and citizen.national_id_hash):
        raise RegistrationRequired(hospital=hospital_code)
