"""Materialise slots from weekly schedules, in each hospital's own time zone.

Idempotent: the wanted set of slots is computed from the schedules and compared with what
exists, so a second run changes nothing. Capacity is never lowered below what is taken, slots
close to their start (inside the walk-in return window) and sessions staff closed are left
alone, and no slot is made in the past. Local times that do not exist (a daylight-saving gap)
are skipped; an ambiguous local time (the hour repeated when clocks go back) gets one slot, at
its first occurrence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from gateway.booking.models import Booking, Department, Hospital, Schedule, Slot
from gateway.settings import BookingSettings


@dataclass
class GenerateReport:
    created: int = 0
    updated: int = 0
    removed: int = 0


@dataclass(frozen=True)
class WantedSlot:
    starts_at: datetime
    ends_at: datetime
    day: date
    capacity: int
    remote_capacity: int
    doctor_id: int | None


def local_start(day: date, minute: int, tz: ZoneInfo) -> datetime | None:
    """Return the aware local datetime of `minute` past midnight on `day`, or None in a gap."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    local = naive.replace(tzinfo=tz, fold=0)
    round_trip = local.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != naive:
        return None
    return local


def remote_places(places: int, share: float) -> int:
    """Places released to remote booking: the share of places, rounded down."""
    return min(places, math.floor(places * share + 1e-9))


def wanted_slots(
    schedules: list[Schedule], tz: ZoneInfo, first_day: date, days: int, default_share: float
) -> dict[datetime, WantedSlot]:
    wanted: dict[datetime, WantedSlot] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for s in (s for s in schedules if s.weekday == day.weekday()):
            share = default_share if s.remote_share is None else s.remote_share
            for minute in range(s.start_minute, s.end_minute - s.slot_minutes + 1, s.slot_minutes):
                start = local_start(day, minute, tz)
                if start is None:
                    continue
                start_utc = start.astimezone(UTC)
                wanted[start_utc] = WantedSlot(
                    start_utc,
                    start_utc + timedelta(minutes=s.slot_minutes),
                    day,
                    s.places,
                    remote_places(s.places, share),
                    s.doctor_id,
                )
    return wanted


def generate_slots(
    session: Session,
    booking: BookingSettings,
    now: datetime,
    days: int,
    hospital_id: int | None = None,
) -> GenerateReport:
    """Create or update the slots of the next `days` local days (of one hospital, or all)."""
    report = GenerateReport()
    query = select(Department, Hospital).join(Hospital)
    if hospital_id is not None:
        query = query.where(Hospital.id == hospital_id)
    departments = session.execute(query).all()
    for dept, hospital in departments:
        _generate_for(session, dept, hospital, booking, now, days, report)
    return report


def _generate_for(
    session: Session,
    dept: Department,
    hospital: Hospital,
    booking: BookingSettings,
    now: datetime,
    days: int,
    report: GenerateReport,
) -> None:
    rules = booking.rules_for(hospital.code)
    tz = ZoneInfo(hospital.timezone)
    schedules = list(session.scalars(select(Schedule).where(Schedule.department_id == dept.id)))
    # Slots about to start keep what the walk-in return (or staff) set; only later ones change.
    frozen_until = now + timedelta(minutes=rules.walkin_return_minutes)
    first_day = now.astimezone(tz).date()
    wanted = {
        start: w
        for start, w in wanted_slots(schedules, tz, first_day, days, rules.remote_share).items()
        if start > now
    }
    horizon_end = datetime.combine(first_day + timedelta(days=days), datetime.min.time(), tz)
    existing = {
        s.starts_at: s
        for s in session.scalars(
            select(Slot).where(
                Slot.department_id == dept.id,
                Slot.starts_at > now,
                Slot.starts_at < horizon_end.astimezone(UTC),
            )
        )
    }
    for start, w in wanted.items():
        slot = existing.get(start)
        if slot is None:
            session.add(
                Slot(
                    department_id=dept.id,
                    doctor_id=w.doctor_id,
                    day=w.day,
                    starts_at=start,
                    ends_at=w.ends_at,
                    capacity=w.capacity,
                    remote_capacity=w.remote_capacity,
                    remote_taken=0,
                )
            )
            report.created += 1
        elif start > frozen_until and slot.closed_at is None and _update(slot, w):
            report.updated += 1
    _remove_unwanted(
        session,
        [s for start, s in existing.items() if start not in wanted and start > frozen_until],
        report,
    )
    session.flush()


def _update(slot: Slot, w: WantedSlot) -> bool:
    remote = max(w.remote_capacity, slot.remote_taken)
    capacity = max(w.capacity, remote, slot.remote_taken + slot.walk_in_taken)
    new = (capacity, remote, w.ends_at, w.doctor_id)
    if (slot.capacity, slot.remote_capacity, slot.ends_at, slot.doctor_id) == new:
        return False
    slot.capacity, slot.remote_capacity, slot.ends_at, slot.doctor_id = new
    return True


def _remove_unwanted(session: Session, slots: list[Slot], report: GenerateReport) -> None:
    """Delete slots a schedule no longer makes, unless anyone holds or booked them."""
    for slot in slots:
        booked = session.scalar(select(exists().where(Booking.slot_id == slot.id)))
        if slot.remote_taken == 0 and not booked:
            session.execute(delete(Slot).where(Slot.id == slot.id))
            report.removed += 1
