"""Voice bookings are claims until the phone's owner confirms them (README, Security).

A caller id can be forged, so a booking made over the voice line is `unconfirmed`: it counts
toward no per-person limit and no block (citizens.py and blocks.py skip it), a phone holds at
most one, a hospital-day at most `unconfirmed_voice_per_day`, and the sweep releases it before
its slot unless the owner confirmed it — by replying to the SMS, over USSD (the network vouches
for both) or by checking in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, func, select

from gateway.booking.domain import events
from gateway.booking.domain.errors import NotFound, UnconfirmedPending, VoiceFull
from gateway.booking.domain.persons import check_household, check_not_blocked
from gateway.booking.models import Booking, Department, Slot
from gateway.booking.operations.cancel import as_booked
from gateway.booking.sql import citizens, persons, transitions
from gateway.booking.sql.bookings import Booked
from gateway.booking.sql.citizens import check_person_limits, lock_row
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.events import record
from gateway.settings import BookingRules, BookingSettings

UNCONFIRMED_CHANNELS = frozenset({"ivr"})  # identity the network does not vouch for
RELEASE_REASON = "unconfirmed voice booking"
BATCH = 200


def is_claim(channel: str) -> bool:
    return channel in UNCONFIRMED_CHANNELS


def release_at(starts_at: datetime, created_at: datetime, rules: BookingRules) -> datetime | None:
    """When an unconfirmed booking goes back: `unconfirmed_release_hours` before the slot, or
    `unconfirmed_late_release_hours` before it for one made after that; None when it was made
    later still (only a check-in can settle it then, and a no-show does not count)."""
    for hours in (rules.unconfirmed_release_hours, rules.unconfirmed_late_release_hours):
        deadline = starts_at - timedelta(hours=hours)
        if created_at <= deadline:
            return deadline
    return None


# Still a claim: unconfirmed and not yet cancelled, checked in or passed.
OPEN_CLAIMS = transitions.open_claim()
_PENDING = DriverStatement(
    select(
        select(func.count())
        .select_from(Booking)
        .where(Booking.citizen_id.in_(transitions.household_of("citizen_id")), OPEN_CLAIMS)
        .scalar_subquery(),
        select(func.count())
        .select_from(Booking)
        .join(Department, Department.id == Booking.department_id)
        .where(
            Department.hospital_id == bindparam("hospital_id"),
            Booking.day == bindparam("day"),
            OPEN_CLAIMS,
        )
        .scalar_subquery(),
    )
)


def check_claim_allowed(
    db: Connection, citizen_id: int, hospital_id: int, day: object, rules: BookingRules
) -> None:
    """Refuse a voice booking while the phone has one unconfirmed, or the hospital's day is at
    its ceiling. The caller holds the citizen's lock, so one phone never passes its own limit;
    the hospital ceiling is a bound on hoarding, read without a lock (parallel voice bookings
    at one hospital may pass it by the number of requests in flight)."""
    mine, hospital_day = _PENDING.run(
        db, {"citizen_id": citizen_id, "hospital_id": hospital_id, "day": day}
    ).one()
    if mine:
        raise UnconfirmedPending()
    if hospital_day >= rules.unconfirmed_voice_per_day:
        raise VoiceFull()


def confirm(
    db: Connection,
    booking_settings: BookingSettings,
    phone: str,
    now: datetime,
    ref: str | None = None,
) -> list[Booked]:
    """The phone's owner keeps their unconfirmed voice bookings (or only `ref`).

    From now on each counts toward their limits, so keeping one that would pass them is
    refused (the booking stays unconfirmed and is released as planned).
    """
    holder = lock_row(db, phone, now)
    kept = []
    for booking in transitions.lock_open_claims(db, holder.id, ref):
        rules = booking_settings.rules_for(booking.dept.hospital_code)
        try:
            person, household = persons.for_booking(db, holder, booking.citizen.id, now)
        except NotFound:
            continue  # hidden since the call: not the phone's to keep; the sweep releases it
        tz = booking.dept.timezone
        check_not_blocked(person, now, tz)
        if household is not None:
            check_household(household, booking_settings.persons, now, tz)
        check_person_limits(db, person, booking.day, booking.dept.id, rules)
        transitions.confirm_claim(db, booking.id)  # the next booking's limits count this one
        citizens.record_consent(db, holder.id, now)  # the owner's own act: their first booking
        event = events.booking_claim_confirmed(
            booking.ref, booking_id=booking.id, citizen_id=person.id, phone=holder.phone
        )
        record(db, event, now)
        kept.append(as_booked(db, booking, booking.status))
    return kept


def due_for_release(
    db: Connection, rules: BookingRules, now: datetime, hospital_id: int
) -> list[tuple[int, int]]:
    """(booking id, citizen id) of this hospital's unconfirmed voice bookings past their
    release deadline, a batch at a time (the sweep releases them)."""
    horizon = now + timedelta(hours=rules.unconfirmed_release_hours)
    rows = db.execute(
        select(Booking.id, Booking.citizen_id, Booking.created_at, Slot.starts_at)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Department, Department.id == Booking.department_id)
        .where(
            Department.hospital_id == hospital_id,
            OPEN_CLAIMS,
            Slot.starts_at <= horizon,
            Slot.starts_at > now,
        )
        .order_by(Booking.id)
        .limit(BATCH)
    ).all()
    return [
        (bid, cid)
        for bid, cid, created, starts in rows
        if (deadline := release_at(starts, created, rules)) is not None and deadline <= now
    ]
