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
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from gateway.booking.catalogue.slots import generate_slots
from gateway.booking.models import (
    Booking,
    Citizen,
    Department,
    Hospital,
    Slot,
    SweepRun,
    Voucher,
)
from gateway.booking.operations import blocks, claims, invitations
from gateway.booking.operations.book import void
from gateway.booking.sql import holds
from gateway.booking.sql.events import record
from gateway.booking.sql.uow import UnitOfWork
from gateway.settings import BlockPolicy, BookingSettings

BATCH = 200
NEVER = datetime(2000, 1, 1, tzinfo=UTC)
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


Step = Callable[[sessionmaker[Session], BookingSettings, datetime, SweepReport], None]


def sweep(
    writer: sessionmaker[Session], booking_settings: BookingSettings, now: datetime
) -> SweepReport:
    """Run every step once; a step that fails is logged and named, the others still run."""
    report = SweepReport()
    for name, step in STEPS:
        try:
            step(writer, booking_settings, now, report)
        except Exception:  # one broken step must not starve the others; the next sweep retries
            log.exception("sweep step %s failed", name)
            report.failed.append(name)
    return report


def _hospitals(writer: sessionmaker[Session]) -> list[tuple[int, str, ZoneInfo]]:
    with writer() as s:
        rows = s.execute(select(Hospital.id, Hospital.code, Hospital.timezone)).all()
    return [(hid, code, ZoneInfo(tz)) for hid, code, tz in rows]


# --- holds and invitations --------------------------------------------------------------------


def _expire_holds(
    writer: sessionmaker[Session], _: BookingSettings, now: datetime, report: SweepReport
) -> None:
    with UnitOfWork(writer) as uow:
        report.holds_expired += holds.release_expired(uow.session, now)
        uow.commit()


def _expire_invitations(
    writer: sessionmaker[Session], _: BookingSettings, now: datetime, report: SweepReport
) -> None:
    after_id = 0
    while True:
        with UnitOfWork(writer) as uow:
            expired, after_id = invitations.expire_due(uow.session, now, after_id, BATCH)
            uow.commit()
        report.invitations_expired += expired
        if after_id == 0:
            return


# --- no-shows and their blocks ----------------------------------------------------------------


def _no_shows(
    writer: sessionmaker[Session],
    booking_settings: BookingSettings,
    now: datetime,
    report: SweepReport,
) -> None:
    """Mark confirmed bookings whose check-in window has closed as no-shows, in batches."""
    for hospital_id, code, _ in _hospitals(writer):
        rules = booking_settings.rules_for(code)
        closed_before = now - timedelta(minutes=rules.checkin_after_minutes)
        after_id = 0
        while True:
            with UnitOfWork(writer) as uow:
                rows = _overdue(uow.session, hospital_id, closed_before, after_id)
                if rows:
                    _mark_no_shows(uow.session, rows, rules.no_show_block, now, report)
                    uow.commit()
            if len(rows) < BATCH:
                break
            after_id = rows[-1][0]


def _overdue(
    session: Session, hospital_id: int, closed_before: datetime, after_id: int
) -> list[tuple[int, str, int]]:
    rows = session.execute(
        select(Booking.id, Booking.ref, Booking.citizen_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Department, Department.id == Slot.department_id)
        .where(
            Department.hospital_id == hospital_id,
            Booking.status == "confirmed",
            Slot.starts_at < closed_before,
            Booking.id > after_id,
        )
        .order_by(Booking.id)
        .limit(BATCH)
    ).all()
    return [(bid, ref, cid) for bid, ref, cid in rows]


def _mark_no_shows(
    session: Session,
    rows: list[tuple[int, str, int]],
    policy: BlockPolicy,
    now: datetime,
    report: SweepReport,
) -> None:
    citizens = {
        c.id: c
        for c in session.scalars(
            select(Citizen)
            .where(Citizen.id.in_(sorted({cid for _, _, cid in rows})))
            .order_by(Citizen.id)
            .with_for_update(skip_locked=True)
        )
    }
    for booking_id, ref, citizen_id in rows:
        citizen = citizens.get(citizen_id)
        if citizen is None:
            continue  # busy with a request of its own (or another worker): the next sweep
        if not _mark_no_show(session, booking_id, now):
            continue  # checked in, cancelled or marked by another worker meanwhile
        record(
            session,
            "booking.no_show",
            ref,
            now,
            booking_id=booking_id,
            citizen_id=citizen_id,
            phone=citizen.phone,
        )
        report.no_shows += 1
        report.blocked += blocks.apply_policy(session, citizen, policy, "no_show", now)


def _mark_no_show(session: Session, booking_id: int, now: datetime) -> bool:
    changed = session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == "confirmed")
        .values(status="no_show", no_show_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(Voucher)
        .where(Voucher.booking_id == booking_id, Voucher.state == "issued")
        .values(state="expired", changed_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


# --- unconfirmed voice bookings ---------------------------------------------------------------


def _release_claims(
    writer: sessionmaker[Session],
    booking_settings: BookingSettings,
    now: datetime,
    report: SweepReport,
) -> None:
    """Release unconfirmed voice bookings past their deadline (claims.release_at), citizens
    locked first with SKIP LOCKED and each booking re-read under lock: released once."""
    for hospital_id, code, _ in _hospitals(writer):
        rules = booking_settings.rules_for(code)
        while True:
            with UnitOfWork(writer) as uow:
                due = claims.due_for_release(uow.session, rules, now, hospital_id)
                released = _release(uow.session, due, now)
                uow.commit()
            report.claims_released += released
            if len(due) < claims.BATCH or not released:
                break


def _release(session: Session, due: list[tuple[int, int]], now: datetime) -> int:
    if not due:
        return 0
    locked = set(
        session.scalars(
            select(Citizen.id)
            .where(Citizen.id.in_(sorted({cid for _, cid in due})))
            .order_by(Citizen.id)
            .with_for_update(skip_locked=True)
        )
    )
    released = 0
    for booking_id, citizen_id in due:
        if citizen_id not in locked:
            continue  # busy with a request of its own (or another worker): the next sweep
        booking = session.get_one(Booking, booking_id, with_for_update=True, populate_existing=True)
        if not booking.unconfirmed or booking.status != "confirmed":
            continue  # confirmed, cancelled or checked in meanwhile
        void(session, booking, "system", claims.RELEASE_REASON, now, because="unconfirmed")
        released += 1
    return released


# --- walk-in return ---------------------------------------------------------------------------


def _return_to_walkin(
    writer: sessionmaker[Session],
    booking_settings: BookingSettings,
    now: datetime,
    report: SweepReport,
) -> None:
    """Give unused remote places of slots starting within N minutes back to walk-in."""
    for hospital_id, code, tz in _hospitals(writer):
        soon = now + timedelta(minutes=booking_settings.rules_for(code).walkin_return_minutes)
        with UnitOfWork(writer) as uow:
            s = uow.session
            slots = s.scalars(
                select(Slot)
                .join(Department, Department.id == Slot.department_id)
                .where(
                    Department.hospital_id == hospital_id,
                    Slot.starts_at > now,
                    Slot.starts_at <= soon,
                    Slot.remote_taken < Slot.remote_capacity,
                )
                .order_by(Slot.id)
                .with_for_update(of=Slot, skip_locked=True)
            ).all()
            for slot in slots:
                report.walkin_returned += _return_slot(s, slot, tz, now)
            uow.commit()


def _return_slot(session: Session, slot: Slot, tz: ZoneInfo, now: datetime) -> bool:
    places = slot.remote_capacity - slot.remote_taken
    changed = session.execute(
        update(Slot)
        .where(
            Slot.id == slot.id,
            Slot.remote_capacity == slot.remote_capacity,
            Slot.remote_taken == slot.remote_taken,
        )
        .values(remote_capacity=Slot.remote_taken)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    record(
        session,
        "slot.walkin_returned",
        slot.id,
        now,
        slot_id=slot.id,
        places=places,
        starts_at=slot.starts_at.astimezone(tz).isoformat(),
    )
    return True


# --- slots ahead ------------------------------------------------------------------------------


def _slots_ahead(
    writer: sessionmaker[Session],
    booking_settings: BookingSettings,
    now: datetime,
    report: SweepReport,
) -> None:
    """Materialise each hospital's slots once per hospital-local day.

    Two days past the horizon, so the day released at the next release time already exists
    even if the first sweep of that day comes late.
    """
    for hospital_id, code, tz in _hospitals(writer):
        midnight = datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tz)
        days = booking_settings.rules_for(code).horizon_days + 2
        with UnitOfWork(writer) as uow:
            if not claim_daily_run(uow.session, f"slots:{code}", midnight, now):
                continue
            made = generate_slots(uow.session, booking_settings, now, days, hospital_id)
            uow.commit()
        report.slots_created += made.created


def claim_daily_run(session: Session, name: str, day_starts: datetime, now: datetime) -> bool:
    """Claim today's run of `name`: True for exactly one caller per day.

    The claim holds the row's lock until the caller's commit; a second worker's UPDATE waits,
    then finds the run already done today. A rollback gives the day's run back.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(SweepRun).values(name=name, last_run=NEVER).on_conflict_do_nothing()
    )
    claimed = session.execute(
        update(SweepRun)
        .where(SweepRun.name == name, SweepRun.last_run < day_starts)
        .values(last_run=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined]


STEPS: tuple[tuple[str, Step], ...] = (
    ("holds", _expire_holds),
    ("claims", _release_claims),
    ("no_shows", _no_shows),
    ("invitations", _expire_invitations),
    ("walkin_return", _return_to_walkin),
    ("slots_ahead", _slots_ahead),
)
