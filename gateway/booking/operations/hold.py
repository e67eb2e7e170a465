"""Hold a slot: claim one remote place for the hold's minutes, replacing the phone's old hold.

The citizen row is locked first, then the slot's facts are read in one statement (admission);
a live hold on the same slot is kept (a retried hop), another hold gives its place back, and a
new place is claimed by the one conditional UPDATE that guards capacity.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain import events
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import SlotFull
from gateway.booking.domain.states import HoldState
from gateway.booking.operations import claims
from gateway.booking.sql import admission, capacity, holds, persons
from gateway.booking.sql.citizens import lock_row
from gateway.booking.sql.events import record
from gateway.booking.views import notices
from gateway.booking.views.notices import slot_of
from gateway.booking.views.readside import fullness, next_free_times
from gateway.settings import BookingSettings


def hold(
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    phone: str,
    session_key: str,
    slot_id: int,
    channel: str,
    now: datetime,
    person_id: int | None = None,
) -> tuple[holds.HoldRow, datetime]:
    """Hold a place of `slot_id` for a person of the phone (None: its holder, "Me"); returns
    the hold and the slot's start.

    Over a channel whose bookings are claims (voice), the per-person limits wait for the
    owner's confirmation, as the booking's do.
    """
    holder = lock_row(db, phone, now)
    citizen, household = persons.for_booking(db, holder, person_id, now)
    slot = admission.read(db, citizen.id, phone, slot_id, now)
    dept = catalogue.department(slot.department_id)
    rules = booking_settings.rules_for(dept.hospital_code)
    counted = not claims.is_claim(channel)
    # Registration is not asked for yet: the real-name screens ask within the hold.
    admission.admit_person(
        citizen, household, slot, dept, booking_settings, now, counted, registered=False
    )
    old = slot.hold
    if old is not None and old.slot_id == slot_id and old.live(now):
        holds.renew(db, old, session_key)  # same slot again (a retried hop)
        return old, slot.starts_at
    if (old is None or old.slot_id != slot_id) and slot.surely_full:
        raise SlotFull(next_times=next_free_times(db, slot_id, dept, now))
    if old is not None:
        if old.slot_id != slot_id:  # two slots change: lock them in id order
            capacity.lock_in_order(db, old.slot_id, slot_id)
        why = HoldState.RELEASED if old.live(now) else HoldState.EXPIRED
        holds.drop_hold(db, old, now, why)
    if not holds.claim_or_reclaim(db, slot_id, now):
        raise SlotFull(next_times=next_free_times(db, slot_id, dept, now))
    placed = holds.place_hold(db, citizen.id, phone, session_key, slot_id, rules.hold_minutes, now)
    return placed, slot.starts_at


def refuse_surely_full(
    db: Connection, catalogue: CatalogueCache, phone: str, slot_id: int, now: datetime
) -> DepartmentInfo:
    """Raise SlotFull from a read alone when a hold would surely be refused (no lock, no
    write: most of a flash crowd ends here); else the slot's department."""
    seen = fullness(db, slot_id, phone, now)
    dept = catalogue.department(seen.department_id)
    if seen.surely_full:
        raise SlotFull(next_times=[t.astimezone(dept.timezone) for t in seen.next_times])
    return dept


def release(db: Connection, phone: str, now: datetime) -> bool:
    """Give the phone's hold back ("start again"); False when it has none."""
    found = holds.find_hold(db, phone)
    return found is not None and holds.drop_hold(db, found, now, HoldState.RELEASED)


def notice_dropped(
    db: Connection, catalogue: CatalogueCache, phone: str, session_key: str, now: datetime
) -> bool:
    """Write one `ussd.dropped` for a dropped session that holds a live slot; once per hold."""
    found = holds.find_hold(db, phone, lock=True)
    if found is None or not found.live(now):
        return False
    # Hold ids can be reused once deleted (SQLite), so the subject names its slot and start too.
    subject = f"{found.id}:{found.slot_id}@{found.created_at.isoformat()}"
    starts_at, department_id = slot_of(db, found.slot_id)
    dept = catalogue.department(department_id)
    event = events.ussd_dropped(
        subject,
        phone=phone,
        session_key=session_key,
        slot_id=found.slot_id,
        hospital=dept.hospital_name_gsm,
        department=dept.name_gsm,
        starts_at=starts_at.astimezone(dept.timezone),
        expires_at=found.expires_at,
    )
    if notices.written(db, event):
        return False
    record(db, event, now)
    return True
