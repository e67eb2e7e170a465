"""Reminders before an appointment (default 24 h and 3 h), each decided once, never at night.

A periodic round (in `worker_rounds`, and so in the demo's background threads too) looks at
the confirmed bookings of the next days. A reminder is due at its offset before the slot, moved
to one minute before the quiet hours when it would fall inside them (21:00–07:00 hospital time
by default: a reminder due at 05:00 goes at 20:59 the evening before). Each is recorded in the
`reminders_sent` ledger with INSERT … ON CONFLICT DO NOTHING in the same transaction as its
outbox event, so several workers running the round at once write it once. The relay re-checks
the booking when it composes the SMS, so a cancel, a rebook or a STOP after the decision still
stops it.

A booking made after a reminder's time gets no such reminder (its voucher has just gone out),
and when a worker comes back after downtime with several reminders of a booking overdue, only
the latest goes; the older ones are recorded as superseded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from gateway.booking.domain.events import booking_reminder
from gateway.booking.domain.persons import has_phone
from gateway.booking.domain.states import BookingStatus, VoucherState
from gateway.booking.models import Booking, Citizen, Department, Hospital, Slot, Voucher
from gateway.booking.sql.events import record
from gateway.booking.sql.uow import UnitOfWork
from gateway.messaging.models import ReminderSent

if TYPE_CHECKING:
    from gateway.runtime import Runtime

SENT, SUPERSEDED = "sent", "superseded"
QUIET_SLACK = timedelta(days=1)  # a reminder moved out of the quiet hours goes at most this early
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start == self.end:
            return False  # no quiet hours
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # across midnight

    def send_time(self, due: datetime) -> datetime:
        """`due` (hospital-local), or one minute before the quiet hours it falls in."""
        if not self.contains(due.time()):
            return due
        day = due.date()
        if self.start > self.end and due.time() < self.end:
            day -= timedelta(days=1)  # after midnight: the quiet hours began the evening before
        evening = datetime.combine(day, self.start, due.tzinfo)
        return (evening.astimezone(UTC) - timedelta(minutes=1)).astimezone(due.tzinfo)


@dataclass(frozen=True)
class Candidate:
    booking_id: int
    ref: str
    slot_id: int
    phone: str
    starts_at: datetime
    issued_at: datetime  # when the live voucher was issued: booked or last moved
    timezone: str


@dataclass(frozen=True)
class Plan:
    offset_minutes: int
    send_at: datetime


def planned(
    starts_at: datetime, offsets_hours: tuple[float, ...], quiet: QuietHours, tz: tzinfo
) -> list[Plan]:
    """When each reminder of a slot starting at `starts_at` goes, earliest offset first."""
    plans = []
    for hours in sorted(offsets_hours, reverse=True):
        due = (starts_at - timedelta(hours=hours)).astimezone(tz)
        plans.append(Plan(round(hours * 60), quiet.send_time(due).astimezone(UTC)))
    return plans


def send_due_reminders(runtime: Runtime) -> int:
    """Decide every reminder due now; return how many reminder events were written."""
    settings, now = runtime.settings, runtime.clock.now()
    offsets = tuple(h for h in settings.reminders_hours if h > 0)
    if not offsets:
        return 0
    quiet = QuietHours(settings.quiet_start, settings.quiet_end)
    written = 0
    with UnitOfWork(runtime.writer) as uow:
        session = uow.session
        candidates = _candidates(session, now, now + timedelta(hours=max(offsets)) + QUIET_SLACK)
        done = _decided(session, [c.booking_id for c in candidates])
        for candidate in candidates:
            written += _decide(session, candidate, offsets, quiet, done, now)
        uow.commit()
    if written:
        log.info("%d reminder(s) due", written)
    return written


def _decide(
    session: Session,
    candidate: Candidate,
    offsets: tuple[float, ...],
    quiet: QuietHours,
    done: set[tuple[int, int, int]],
    now: datetime,
) -> int:
    """Write the latest due reminder of one booking (and supersede older ones); 1 if written."""
    tz = ZoneInfo(candidate.timezone)
    if quiet.contains(now.astimezone(tz).time()):
        return 0  # a late round at night waits for the morning
    due = [
        plan
        for plan in planned(candidate.starts_at, offsets, quiet, tz)
        if candidate.issued_at < plan.send_at <= now
        and (candidate.booking_id, candidate.slot_id, plan.offset_minutes) not in done
    ]
    if not due:
        return 0
    *older, latest = due
    for plan in older:
        _claim(session, candidate, plan, SUPERSEDED, now)
    if not _claim(session, candidate, latest, SENT, now):
        return 0  # another worker decided it first
    reminder = booking_reminder(
        candidate.ref,
        booking_id=candidate.booking_id,
        slot_id=candidate.slot_id,
        offset_minutes=latest.offset_minutes,
        phone=candidate.phone,
    )
    record(session, reminder, now)
    return 1


def _claim(session: Session, candidate: Candidate, plan: Plan, outcome: str, now: datetime) -> bool:
    """Insert the ledger row unless it exists; True if this transaction inserted it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(ReminderSent)
        .values(
            booking_id=candidate.booking_id,
            slot_id=candidate.slot_id,
            offset_minutes=plan.offset_minutes,
            outcome=outcome,
            send_at=plan.send_at,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["booking_id", "slot_id", "offset_minutes"])
        .returning(ReminderSent.id)
    ).first()
    return inserted is not None


def _candidates(session: Session, now: datetime, until: datetime) -> list[Candidate]:
    """Confirmed bookings with slots from now until `until`, of persons a phone reaches whose
    holder takes reminders (a dependant's STOP is the phone's; a person without a phone, booked
    at the desk, gets none)."""
    holder = aliased(Citizen)
    rows = session.execute(
        select(
            Booking.id,
            Booking.ref,
            Booking.slot_id,
            Citizen.phone,
            Slot.starts_at,
            Voucher.created_at,
            Hospital.timezone,
        )
        .join(Citizen, Citizen.id == Booking.citizen_id)
        .join(holder, holder.id == func.coalesce(Citizen.guardian_id, Citizen.id))
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Department, Department.id == Slot.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .join(Voucher, (Voucher.booking_id == Booking.id) & (Voucher.state == VoucherState.ISSUED))
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            holder.reminders_opt_out.is_(False),
            Slot.starts_at > now,
            Slot.starts_at <= until,
        )
        .order_by(Slot.starts_at, Booking.id)
    ).all()
    return [Candidate(*row) for row in rows if has_phone(row.phone)]


def _decided(session: Session, booking_ids: list[int]) -> set[tuple[int, int, int]]:
    if not booking_ids:
        return set()
    rows = session.execute(
        select(ReminderSent.booking_id, ReminderSent.slot_id, ReminderSent.offset_minutes).where(
            ReminderSent.booking_id.in_(booking_ids)
        )
    )
    return {(booking, slot, offset) for booking, slot, offset in rows}
