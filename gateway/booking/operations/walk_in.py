"""A walk-in at the desk: a person with no booking takes a walk-in place and a queue number.

The desk registers the person who turned up into the department's walk-in places of today
(sql.walk_ins: the places the remote share leaves, plus the remote places nobody took once
they returned to walk-in), counted apart from remote bookings, and checks them in at once on
the kiosk's path (operations.checkin), so their queue number comes from the same counter as
every arrival's. Refused with `walk_in_full` when no place is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound, WalkInFull
from gateway.booking.domain.persons import check_counts, named
from gateway.booking.operations import checkin
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.sql import admission, holds, persons, walk_ins
from gateway.booking.sql.bookings import Place
from gateway.booking.sql.walk_ins import OpenSlot
from gateway.booking.views.departments import department_id
from gateway.settings import BookingRules, BookingSettings


@dataclass(frozen=True)
class WalkIn:
    """A walk-in as the desk prints it: the booking's reference, whose it is, the ticket."""

    ref: str
    person_id: int
    ticket: checkin.Ticket


def walk_in(
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    hospital_code: str,
    department_code: str,
    actor: str,
    now: datetime,
    at: datetime | None = None,
    person_id: int | None = None,
) -> WalkIn:
    """Give a person who walked in a walk-in place of the department today and check them in.

    The place is in the slot running at `at` (None: now; never earlier than now) or, when it
    has none left, the next slot of today that has one. `person_id` names a known person
    (found by the desk, or registered by `register_without_phone`): their per-day and
    per-department limits hold as for any booking (one with a booking in the department
    checks in with it instead), but not the guards against the public (block, real-name
    registration, release horizon): the desk sees the person. None registers a nameless
    person without a phone: the desk never turns a sick person away for want of a name, and
    the queue number is all a walk-in needs. Raises NotFound (department, person) or
    WalkInFull.
    """
    dept = catalogue.department(department_id(db, hospital_code, department_code))
    rules = booking_settings.rules_for(dept.hospital_code)
    today = now.astimezone(dept.timezone).date()
    slots = walk_ins.open_slots(db, dept.id, today, now if at is None else max(at, now))
    if person_id is None:
        person_id = persons.add_without_phone(db, None, None, now)
    else:
        _check_person(db, person_id, slots, rules, now)
    # The queue number first: the kiosk locks the counter before a booking and a cancellation
    # a booking before its slot, so counter -> slot here closes no cycle. A refusal below
    # rolls the number back with everything else.
    number = checkin.next_queue_number(db, dept.id, today)
    slot = _claim_first(db, slots, rules, now)
    place = Place(slot.id, dept.id, today, dept.hospital_code)
    ref = walk_ins.insert_walk_in(db, person_id, place, now)
    ticket = _check_in(db, ref, dept, now, number)
    record_staff_action(db, actor, "walk_in", ref, f"person {person_id}", now)
    return WalkIn(ref, person_id, ticket)


def _check_person(
    db: Connection, person_id: int, slots: list[OpenSlot], rules: BookingRules, now: datetime
) -> None:
    """Lock the person's guard row (as every booking of theirs does, first) and refuse one
    past their limits for the day or the department."""
    guard = persons.lock_guard(db, person_id)
    if guard is None:
        raise NotFound(what="person")
    person, _ = persons.for_booking(db, guard, person_id, now)
    if not slots:
        return  # nothing to count against: the claim refuses
    # Every candidate is of the same department and day: the first one's counts are theirs.
    counts = admission.read(db, person.id, person.phone, slots[0].id, now)
    check_counts(counts.on_day, counts.in_department, rules, named(person))


def _claim_first(
    db: Connection, slots: list[OpenSlot], rules: BookingRules, now: datetime
) -> OpenSlot:
    """Take a walk-in place in the first of `slots` that has one; raise WalkInFull."""
    returns_until = now + timedelta(minutes=rules.walkin_return_minutes)
    found = next((s for s in slots if _claim(db, s, returns_until, now)), None)
    if found is None:
        raise WalkInFull()
    return found


def _claim(db: Connection, slot: OpenSlot, returns_until: datetime, now: datetime) -> bool:
    """Take a walk-in place of the slot. Once its remote places returned to walk-in, those
    held by expired holds are free: they are released first when the slot looks full, as a
    remote claim does, so an expired hold never keeps a walk-in out."""
    if walk_ins.claim(db, slot.id, returns_until):
        return True
    returned = slot.starts_at <= returns_until
    return (
        returned
        and holds.release_expired(db, now, slot.id) > 0
        and walk_ins.claim(db, slot.id, returns_until)
    )


def _check_in(
    db: Connection, ref: str, dept: DepartmentInfo, now: datetime, number: int
) -> checkin.Ticket:
    """Check the new walk-in in on the desk's path with its queue number, one event. Nothing
    else can have changed the booking inside this transaction, so the write always matches."""
    seen = checkin.scan_ref(db, ref)
    return checkin.admit_scanned(db, seen, dept, now, at="desk", number=number)
