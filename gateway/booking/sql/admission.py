"""What a hold or a booking must know before it takes a place, read in one statement.

The slot, the citizen's bookings that day (in all and in the slot's department), the phone's
current hold, whether the slot has expired holds to reclaim, and the booking an idempotency
key already made: one SELECT after the citizen's row lock, instead of one query per rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, select

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.persons import (
    Household,
    Person,
    check_counts,
    check_household,
    check_not_blocked,
    check_registered,
    named,
)
from gateway.booking.domain.rules import check_bookable, check_lead_time
from gateway.booking.models import Booking, Slot
from gateway.booking.sql import holds
from gateway.booking.sql.citizens import booked_that_day
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor
from gateway.settings import BookingRules, BookingSettings, PersonRules

SLOTS, BOOKINGS, HOLDS = Slot.__table__, Booking.__table__, holds.HOLDS
NO_PERSON_RULES = PersonRules()  # `admit` without a household reads none of them


@dataclass(frozen=True)
class Admission:
    slot_id: int
    department_id: int
    day: date
    starts_at: datetime
    remote_taken: int
    remote_capacity: int
    on_day: int  # the citizen's active bookings that day
    in_department: int  # … of them in the slot's department
    expired_holds: bool  # the slot has expired holds whose places can be reclaimed
    earlier: int | None  # the booking this idempotency key already made for this citizen
    hold: holds.HoldRow | None  # the phone's hold, on any slot

    @property
    def surely_full(self) -> bool:
        """No place now, and none to reclaim: a claim would fail (the refusal needs no lock)."""
        return self.remote_taken >= self.remote_capacity and not self.expired_holds


def _statement() -> Select[Any]:
    on_day, in_department = booked_that_day(
        bindparam("citizen_id"), SLOTS.c.day, SLOTS.c.department_id
    )
    others = HOLDS.alias("others")  # holds is in the outer FROM too (the phone's own)
    expired = exists().where(
        others.c.slot_id == SLOTS.c.id, others.c.expires_at <= bindparam("now")
    )
    earlier = (
        select(BOOKINGS.c.id)
        .where(
            BOOKINGS.c.idempotency_key == bindparam("key"),
            BOOKINGS.c.citizen_id == bindparam("citizen_id"),
        )
        .scalar_subquery()
    )
    return (
        select(
            SLOTS.c.id,
            SLOTS.c.department_id,
            SLOTS.c.day,
            SLOTS.c.starts_at,
            SLOTS.c.remote_taken,
            SLOTS.c.remote_capacity,
            on_day,
            in_department,
            expired,
            earlier,
            *holds.COLUMNS,
        )
        .select_from(SLOTS.outerjoin(HOLDS, HOLDS.c.phone == bindparam("phone")))
        .where(SLOTS.c.id == bindparam("slot_id"))
    )


_ADMISSION = DriverStatement(_statement())


def read(
    db: Executor,
    citizen_id: int,
    phone: str,
    slot_id: int,
    now: datetime,
    idempotency_key: str | None = None,
) -> Admission:
    params = {
        "citizen_id": citizen_id,
        "phone": phone,
        "slot_id": slot_id,
        "now": now,
        "key": idempotency_key,
    }
    row = _ADMISSION.run(db, params).first()
    if row is None:
        raise NotFound(what="slot")
    hold = holds.HoldRow(*row[10:]) if row[10] is not None else None
    slot_id, department_id, day, starts_at, taken, capacity = row[:6]
    return Admission(
        slot_id,
        department_id,
        day,
        starts_at,
        taken,
        capacity,
        int(row[6]),
        int(row[7]),
        bool(row[8]),
        row[9],
        hold,
    )


def admit(
    citizen: Person,
    slot: Admission,
    dept: DepartmentInfo,
    rules: BookingRules,
    now: datetime,
    count_limits: bool = True,
    public: bool = True,
    household: Household | None = None,
    persons: PersonRules = NO_PERSON_RULES,
    registered: bool = True,
) -> None:
    """Raise the first rule that keeps `citizen` from booking the slot at `now`.

    `count_limits=False` for a voice claim: it counts toward no per-person limit until the
    owner keeps it (the limits are checked then), and a refusal would tell a caller who
    forged the number which department the owner is booked in that day. `public=False` for
    the hospital's own offer (an invitation): the guards against the public (blocks,
    real-name registration, the release horizon) do not apply; the slot's start does.
    `household`: the phone's persons, when it has dependants (sql.persons.household).
    `registered=False` for a hold: in real-name mode the menus ask for the name and ID while
    the place is held, and the booking checks them.
    """
    if public:
        check_not_blocked(citizen, now, dept.timezone)
        if registered:
            check_registered(citizen, rules, dept.hospital_code, now)
        check_bookable(slot.starts_at, slot.day, dept.timezone, rules, now)
    else:  # the hospital may offer a day before the public sees it
        check_lead_time(slot.starts_at, rules, now)
    if household is not None and public:
        check_household(household, persons, now, dept.timezone, count_limits)
    if count_limits:
        check_counts(slot.on_day, slot.in_department, rules, named(citizen))


def admit_person(
    person: Person,
    household: Household | None,
    slot: Admission,
    dept: DepartmentInfo,
    booking_settings: BookingSettings,
    now: datetime,
    count_limits: bool = True,
    registered: bool = True,
) -> None:
    """`admit` for a person of a phone, with their household's rules and the hospital's."""
    rules = booking_settings.rules_for(dept.hospital_code)
    admit(
        person,
        slot,
        dept,
        rules,
        now,
        count_limits,
        household=household,
        persons=booking_settings.persons,
        registered=registered,
    )
