"""Time rules (README, The booking rules): release and horizon, lead time, cancellation
deadline, check-in window.

Pure functions of (rules, times), so every edge is testable without a database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.booking.domain.errors import DeadlinePassed, OutsideHorizon, SlotStarted
from gateway.settings import BookingRules


def opens_at(day: date, tz: ZoneInfo, rules: BookingRules) -> datetime:
    """When day `day` is released: release_time, hospital-local, `horizon_days` before it."""
    return datetime.combine(day - timedelta(days=rules.horizon_days), rules.release_time, tz)


def last_open_day(now: datetime, tz: ZoneInfo, rules: BookingRules) -> date:
    """The furthest day already released at `now`."""
    local = now.astimezone(tz)
    released_today = local.time() >= rules.release_time
    return local.date() + timedelta(days=rules.horizon_days - (0 if released_today else 1))


def check_lead_time(starts_at: datetime, rules: BookingRules, now: datetime) -> None:
    """Raise SlotStarted when a slot starting at `starts_at` is too close to book at `now`."""
    if now >= starts_at - timedelta(minutes=rules.min_lead_minutes):
        raise SlotStarted()


def check_released(day: date, tz: ZoneInfo, rules: BookingRules, now: datetime) -> None:
    """Raise OutsideHorizon when day `day` is not yet released to the public at `now`."""
    release = opens_at(day, tz, rules)
    if now < release:
        raise OutsideHorizon(opens_at=release)


def check_bookable(
    starts_at: datetime, day: date, tz: ZoneInfo, rules: BookingRules, now: datetime
) -> None:
    """Raise unless a slot starting at `starts_at` (local day `day`) may be booked at `now`."""
    check_lead_time(starts_at, rules, now)
    check_released(day, tz, rules, now)


def cancel_deadline(starts_at: datetime, rules: BookingRules) -> datetime:
    return starts_at - timedelta(hours=rules.cancel_deadline_hours)


def check_cancellable(starts_at: datetime, rules: BookingRules, now: datetime) -> None:
    deadline = cancel_deadline(starts_at, rules)
    if now > deadline:
        raise DeadlinePassed(deadline=deadline)


def checkin_window(starts_at: datetime, rules: BookingRules) -> tuple[datetime, datetime]:
    """First and last instant a citizen may check in for a slot starting at `starts_at`."""
    return (
        starts_at - timedelta(minutes=rules.checkin_before_minutes),
        starts_at + timedelta(minutes=rules.checkin_after_minutes),
    )
