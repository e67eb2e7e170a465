"""The admission and time rules as tables, pure: no database, each case in microseconds.

The same edges run through the service on both backends in tests/booking/test_booking_rules.py;
these say which rule decides, and at which instant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import (
    Blocked,
    BookingError,
    DeadlinePassed,
    DepartmentSameDay,
    LimitPerDay,
    OutsideHorizon,
    RegistrationRequired,
    SlotStarted,
)
from gateway.booking.domain.persons import check_counts, check_not_blocked, check_registered
from gateway.booking.domain.rules import (
    cancel_deadline,
    check_bookable,
    check_cancellable,
    checkin_window,
    last_open_day,
    opens_at,
)
from gateway.booking.sql.admission import Admission, admit
from gateway.settings import BookingRules

NAIROBI = ZoneInfo("Africa/Nairobi")  # UTC+3, no DST
RULES = BookingRules(
    horizon_days=14,
    release_time=time(7, 0),
    min_lead_minutes=30,
    max_per_day=2,
    max_per_department_day=1,
    cancel_deadline_hours=2,
    checkin_before_minutes=120,
    checkin_after_minutes=30,
)
DAY = date(2026, 12, 7)
START = datetime(2026, 12, 7, 9, 0, tzinfo=NAIROBI)  # 06:00 UTC
RELEASE = datetime(2026, 11, 23, 7, 0, tzinfo=NAIROBI)  # 14 days before, at 07:00 local


@dataclass(frozen=True)
class Person:
    id: int = 1
    phone: str = "+254700000001"
    name: str | None = None
    national_id_hash: str | None = None
    blocked_until: datetime | None = None
    birth_year: int | None = None
    guardian_id: int | None = None  # None: the phone's holder ("Me")


def _raised(call: Callable[[], object]) -> type[BookingError] | None:
    """The refusal `call` raises, or None."""
    try:
        call()
    except BookingError as exc:
        return type(exc)
    return None


# --- release and horizon ----------------------------------------------------------------


def test_a_day_opens_at_release_time_horizon_days_before() -> None:
    assert opens_at(DAY, NAIROBI, RULES) == RELEASE


@pytest.mark.parametrize(
    ("local_now", "last"),
    [
        (datetime(2026, 11, 23, 6, 59, tzinfo=NAIROBI), date(2026, 12, 6)),
        (datetime(2026, 11, 23, 7, 0, tzinfo=NAIROBI), date(2026, 12, 7)),
        (datetime(2026, 11, 23, 23, 59, tzinfo=NAIROBI), date(2026, 12, 7)),
        # UTC is still the 22nd: the hospital's calendar decides
        (datetime(2026, 11, 23, 0, 30, tzinfo=NAIROBI), date(2026, 12, 6)),
    ],
)
def test_last_open_day(local_now: datetime, last: date) -> None:
    assert last_open_day(local_now.astimezone(UTC), NAIROBI, RULES) == last


@pytest.mark.parametrize(
    ("now", "refusal"),
    [
        (RELEASE - timedelta(seconds=1), OutsideHorizon),
        (RELEASE, None),
        (START - timedelta(minutes=31), None),
        (START - timedelta(minutes=30), SlotStarted),  # the lead time, inclusive
        (START, SlotStarted),
        (START + timedelta(hours=1), SlotStarted),
    ],
    ids=["before-release", "at-release", "lead-1min", "lead-edge", "start", "after"],
)
def test_check_bookable(now: datetime, refusal: type[BookingError] | None) -> None:
    assert _raised(lambda: check_bookable(START, DAY, NAIROBI, RULES, now)) is refusal


def test_outside_horizon_says_when_it_opens() -> None:
    with pytest.raises(OutsideHorizon) as caught:
        check_bookable(START, DAY, NAIROBI, RULES, RELEASE - timedelta(hours=1))
    assert caught.value.facts == {"opens_at": RELEASE}


# --- cancellation deadline and check-in window -------------------------------------------


@pytest.mark.parametrize(
    ("now", "refusal"),
    [
        (START - timedelta(hours=3), None),
        (START - timedelta(hours=2), None),  # at the deadline still allowed
        (START - timedelta(hours=2) + timedelta(seconds=1), DeadlinePassed),
        (START, DeadlinePassed),
    ],
)
def test_check_cancellable(now: datetime, refusal: type[BookingError] | None) -> None:
    assert cancel_deadline(START, RULES) == START - timedelta(hours=2)
    assert _raised(lambda: check_cancellable(START, RULES, now)) is refusal


def test_fractional_deadline_hours() -> None:
    assert cancel_deadline(START, replace(RULES, cancel_deadline_hours=1.5)) == START - timedelta(
        minutes=90
    )


def test_checkin_window() -> None:
    assert checkin_window(START, RULES) == (
        START - timedelta(minutes=120),
        START + timedelta(minutes=30),
    )


# --- the person: blocked, registered, counts ----------------------------------------------


@pytest.mark.parametrize(
    ("blocked_until", "refusal"),
    [
        (None, None),
        (START - timedelta(seconds=1), None),
        (START, None),  # ends exactly now: no longer blocked
        (START + timedelta(seconds=1), Blocked),
    ],
)
def test_check_not_blocked(blocked_until: datetime | None, refusal: type | None) -> None:
    person = Person(blocked_until=blocked_until)
    assert _raised(lambda: check_not_blocked(person, START, NAIROBI)) is refusal


def test_a_block_names_its_last_day_in_the_hospital_calendar() -> None:
    until = datetime(2026, 12, 9, 22, 30, tzinfo=UTC)  # 10 December, 01:30 in Nairobi
    with pytest.raises(Blocked) as caught:
        check_not_blocked(Person(blocked_until=until), START, NAIROBI)
    assert caught.value.facts == {"until": date(2026, 12, 10)}


@pytest.mark.parametrize(
    ("real_name", "name", "id_hash", "birth_year", "refusal"),
    [
        (False, None, None, None, None),
        (True, "Amina", "h", None, None),
        (True, None, "h", None, RegistrationRequired),
        (True, "Amina", None, None, RegistrationRequired),
        (True, "", "h", None, RegistrationRequired),
        # A minor (by birth year; the start is in 2026) has no ID: name and year are enough.
        (True, "Amina", None, 2019, None),
        (True, "Amina", None, 2009, None),  # 17 this year
        (True, "Amina", None, 2008, RegistrationRequired),  # 18 this year: an adult's ID
        (True, None, None, 2019, RegistrationRequired),
    ],
)
def test_check_registered(
    real_name: bool,
    name: str | None,
    id_hash: str | None,
    birth_year: int | None,
    refusal: type | None,
) -> None:
    rules = replace(RULES, real_name=real_name)
    person = Person(name=name, national_id_hash=id_hash, birth_year=birth_year)
    assert _raised(lambda: check_registered(person, rules, "KNH", START)) is refusal


@pytest.mark.parametrize(
    ("on_day", "in_department", "refusal"),
    [
        (0, 0, None),
        (1, 0, None),
        (1, 1, DepartmentSameDay),
        (2, 0, LimitPerDay),
        (2, 1, LimitPerDay),  # the per-day limit is named first
    ],
)
def test_check_counts(on_day: int, in_department: int, refusal: type | None) -> None:
    assert _raised(lambda: check_counts(on_day, in_department, RULES)) is refusal


# --- admission: the rules in their order, over one read -----------------------------------

DEPT = DepartmentInfo(
    6, "OPD", "Outpatients", "Outpatients", "R1", False, 2, "KNH", "KNH", "KNH", NAIROBI
)
SLOT = Admission(
    slot_id=9,
    department_id=6,
    day=DAY,
    starts_at=START,
    remote_taken=0,
    remote_capacity=4,
    on_day=0,
    in_department=0,
    expired_holds=False,
    earlier=None,
    hold=None,
)
NOW = RELEASE + timedelta(days=1)
BLOCKED = Person(blocked_until=START + timedelta(days=3))
REAL = replace(RULES, real_name=True)


@pytest.mark.parametrize(
    ("person", "slot", "rules", "now", "options", "refusal"),
    [
        (Person(), SLOT, RULES, NOW, {}, None),
        (BLOCKED, SLOT, RULES, NOW, {}, Blocked),
        (BLOCKED, SLOT, REAL, NOW, {}, Blocked),  # blocked is named before registration
        (Person(), SLOT, REAL, NOW, {}, RegistrationRequired),
        (Person(), SLOT, RULES, RELEASE - timedelta(days=1), {}, OutsideHorizon),
        (Person(), SLOT, RULES, START, {}, SlotStarted),
        (Person(), replace(SLOT, on_day=2), RULES, NOW, {}, LimitPerDay),
        (Person(), replace(SLOT, in_department=1), RULES, NOW, {}, DepartmentSameDay),
        # a voice claim counts toward no limit until its owner keeps it
        (Person(), replace(SLOT, on_day=2), RULES, NOW, {"count_limits": False}, None),
        # the hospital's own offer: no blocks, registration or horizon; the start still counts
        (BLOCKED, SLOT, REAL, RELEASE - timedelta(days=1), {"public": False}, None),
        (Person(), SLOT, RULES, START, {"public": False}, SlotStarted),
        (Person(), replace(SLOT, on_day=2), RULES, NOW, {"public": False}, LimitPerDay),
    ],
)
def test_admit(
    person: Person,
    slot: Admission,
    rules: BookingRules,
    now: datetime,
    options: dict[str, Any],
    refusal: type | None,
) -> None:
    assert _raised(lambda: admit(person, slot, DEPT, rules, now, **options)) is refusal


@pytest.mark.parametrize(
    ("taken", "expired_holds", "full"), [(3, False, False), (4, False, True), (4, True, False)]
)
def test_surely_full(taken: int, expired_holds: bool, full: bool) -> None:
    assert replace(SLOT, remote_taken=taken, expired_holds=expired_holds).surely_full is full
