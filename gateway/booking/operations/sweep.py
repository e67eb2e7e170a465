"""The periodic sweep: what time alone changes, run by `ors worker` and the demo's thread.

Safe on several workers at once. Every step takes its rows with FOR UPDATE SKIP LOCKED (a
worker never waits for another) and changes each row with a conditional UPDATE whose rowcount
says whether this worker made the change, so each row changes once and writes one event. The
no-show step locks the citizen rows (skipping locked ones), not the bookings, to keep the lock
order of every use case: citizen first. Daily work (slot generation) is claimed per hospital
and day in `sweep_runs`. On SQLite, BEGIN IMMEDIATE serialises workers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select

from gateway.booking.catalogue.updates import generate_once_a_day
from gateway.booking.domain import events
from gateway.booking.domain.states import BOOKING
from gateway.booking.models import Booking, Citizen, Department, Hospital, Slot
from gateway.booking.operations import claims, invitations, no_shows
from gateway.booking.operations.cancel import void
from gateway.booking.sql import capacity, citizens, holds, transitions
from gateway.booking.sql.events import record
from gateway.booking.sql.guards import may
from gateway.settings import BlockPolicy, BookingSettings

BATCH = 200
log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    holds_expired: int = 0
    no_shows: int = 0
    blocked: int = 0
    invitations_expired: int = 0
    walkin_returned: int = 0  # slots whose unused remote places went back to walk-in
    claims_released: int = 0  # unconfirmed voice bookings released before their slot
    slots_created: int = 0
    failed: list[str] = field(default_factory=list)


Step = Callable[[Engine, BookingSettings, datetime, SweepReport], None]
SYSTEM = "system"  # who cancels an unconfirmed voice booking


def sweep(engine: Engine, booking_settings: BookingSettings, now: datetime) -> SweepReport:
    """Run every step once; a step that fails is logged and named, the others still run."""
    report = SweepReport()
    for name, step in STEPS:
        try:
            step(engine, booking_settings, now, report)
        except Exception:  # one broken step must not starve the others; the next sweep retries
            log.exception("sweep step %s failed", name)
            report.failed.append(name)
    return report


def _hospitals(engine: Engine) -> list[tuple[int, str, ZoneInfo]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Hospital.id, Hospital.code, Hospital.timezone)).all()
    return [(hid, code, ZoneInfo(tz)) for hid, code, tz in rows]


# --- holds and invitations --------------------------------------------------------------------


def _expire_holds(engine: Engine, _: BookingSettings, now: datetime, report: SweepReport) -> None:
    with engine.begin() as conn:
        report.holds_expired += holds.release_expired(conn, now)


def _expire_invitations(
    engine: Engine, _: BookingSettings, now: datetime, report: SweepReport
) -> None:
    after_id = 0
    while True:
        with engine.begin() as conn:
            expired, after_id = invitations.expire_due(conn, now, after_id, BATCH)
        report.invitations_expired += expired
        if after_id == 0:
            return


# --- no-shows and their blocks ----------------------------------------------------------------

Overdue = tuple[int, str, int, str]  # booking id, ref, citizen id, the citizen's phone


def _no_shows(
    engine: Engine, booking_settings: BookingSettings, now: datetime, report: SweepReport
) -> None:
    """Mark confirmed bookings whose check-in window has closed as no-shows, in batches."""
    for hospital_id, code, _ in _hospitals(engine):
        rules = booking_settings.rules_for(code)
        closed_before = now - timedelta(minutes=rules.checkin_after_minutes)
        after_id = 0
        while True:
            with engine.begin() as conn:
                rows = _overdue(conn, hospital_id, closed_before, after_id)
                if rows:
                    _mark_no_shows(conn, rows, rules.no_show_block, now, report)
            if len(rows) < BATCH:
                break
            after_id = rows[-1][0]


def _overdue(
    conn: Connection, hospital_id: int, closed_before: datetime, after_id: int
) -> list[Overdue]:
    rows = conn.execute(
        select(Booking.id, Booking.ref, Booking.citizen_id, Citizen.phone)
        .join(Citizen, Citizen.id == Booking.citizen_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Department, Department.id == Slot.department_id)
        .where(
            Department.hospital_id == hospital_id,
            may(Booking.status, BOOKING, operation="no_show"),
            Slot.starts_at < closed_before,
            Booking.id > after_id,
        )
        .order_by(Booking.id)
        .limit(BATCH)
    ).all()
    return [(bid, ref, cid, phone) for bid, ref, cid, phone in rows]


def _mark_no_shows(
    conn: Connection, rows: list[Overdue], policy: BlockPolicy, now: datetime, report: SweepReport
) -> None:
    free = set(citizens.lock_ids(conn, (cid for _, _, cid, _ in rows), skip_locked=True))
    for booking_id, ref, citizen_id, phone in rows:
        if citizen_id not in free:
            continue  # busy with a request of its own (or another worker): the next sweep
        blocked = no_shows.record_no_show(conn, booking_id, ref, citizen_id, phone, policy, now)
        if blocked is None:
            continue  # checked in, cancelled or marked by another worker (or the desk) meanwhile
        report.no_shows += 1
        report.blocked += blocked


# --- unconfirmed voice bookings ---------------------------------------------------------------


def _release_claims(
    engine: Engine, booking_settings: BookingSettings, now: datetime, report: SweepReport
) -> None:
    """Release unconfirmed voice bookings past their deadline (claims.release_at), citizens
    locked first with SKIP LOCKED and each booking re-read under lock: released once."""
    for hospital_id, code, _ in _hospitals(engine):
        rules = booking_settings.rules_for(code)
        while True:
            with engine.begin() as conn:
                due = claims.due_for_release(conn, rules, now, hospital_id)
                released = _release(conn, due, now)
            report.claims_released += released
            if len(due) < claims.BATCH or not released:
                break


def _release(conn: Connection, due: list[tuple[int, int]], now: datetime) -> int:
    if not due:
        return 0
    free = set(citizens.lock_ids(conn, (cid for _, cid in due), skip_locked=True))
    released = 0
    for booking_id, citizen_id in due:
        if citizen_id not in free:
            continue  # busy with a request of its own (or another worker): the next sweep
        booking = transitions.lock_id(conn, booking_id)
        if (
            booking is None
            or not booking.unconfirmed
            or not BOOKING.allows("cancel", booking.status)
        ):
            continue  # confirmed, cancelled or checked in meanwhile
        void(conn, booking, SYSTEM, claims.RELEASE_REASON, now, because="unconfirmed")
        released += 1
    return released


# --- walk-in return ---------------------------------------------------------------------------


def _return_to_walkin(
    engine: Engine, booking_settings: BookingSettings, now: datetime, report: SweepReport
) -> None:
    """Give unused remote places of slots starting within N minutes back to walk-in."""
    for hospital_id, code, tz in _hospitals(engine):
        soon = now + timedelta(minutes=booking_settings.rules_for(code).walkin_return_minutes)
        with engine.begin() as conn:
            for slot in capacity.lock_unused(conn, hospital_id, now, soon):
                if not capacity.return_to_walkin(conn, slot):
                    continue
                event = events.slot_walkin_returned(
                    slot.id,
                    places=slot.remote_capacity - slot.remote_taken,
                    starts_at=slot.starts_at.astimezone(tz),
                )
                record(conn, event, now)
                report.walkin_returned += 1


# --- slots ahead ------------------------------------------------------------------------------


def _slots_ahead(
    engine: Engine, booking_settings: BookingSettings, now: datetime, report: SweepReport
) -> None:
    """Materialise each hospital's slots once per hospital-local day.

    Two days past the horizon, so the day released at the next release time already exists
    even if the first sweep of that day comes late.
    """
    for hospital_id, code, tz in _hospitals(engine):
        midnight = datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tz)
        days = booking_settings.rules_for(code).horizon_days + 2
        made = generate_once_a_day(
            engine, booking_settings, now, days, (hospital_id, code), midnight
        )
        report.slots_created += made


STEPS: tuple[tuple[str, Step], ...] = (
    ("holds", _expire_holds),
    ("claims", _release_claims),
    ("no_shows", _no_shows),
    ("invitations", _expire_invitations),
    ("walkin_return", _return_to_walkin),
    ("slots_ahead", _slots_ahead),
)
