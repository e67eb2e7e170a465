"""A test per rule edge (README, The booking rules): release, horizon, limits, deadline, blocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gateway.booking.domain.errors import (
    Blocked,
    DeadlinePassed,
    DepartmentSameDay,
    LimitPerDay,
    OutsideHorizon,
    SlotStarted,
)
from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from gateway.settings import BookingSettings
from tests.booking.conftest import NAIROBI, slot_id
from tests.booking.helpers import refuse_if_blocked
from tests.clocks import clock_of

PHONE = "+254700000001"


def at(
    rt: Runtime, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> None:
    """Put the clock at a Nairobi wall time."""
    wall = datetime(year, month, day, hour, minute, second, tzinfo=NAIROBI)
    clock_of(rt).at = wall.astimezone(UTC)


@pytest.fixture
def far(catalog: Runtime) -> Runtime:
    catalog.booking.generate_slots(17)  # a few days past the horizon
    return catalog


@pytest.mark.parametrize(
    ("now", "bookable"),
    [
        ((2026, 11, 23, 23, 59, 59), False),  # Tue 8 Dec opens at 00:00 on Tue 24 Nov
        ((2026, 11, 24, 0, 0, 0), True),
    ],
)
def test_day_opens_at_release_time_horizon_days_ahead(
    far: Runtime, now: tuple, bookable: bool
) -> None:
    sid = slot_id(far, "CARD", datetime(2026, 12, 8, 8, 0))
    at(far, *now)
    if bookable:
        assert far.booking.book(PHONE, sid, "ussd").status == "confirmed"
        return
    with pytest.raises(OutsideHorizon) as refused:
        far.booking.book(PHONE, sid, "ussd")
    assert refused.value.facts["opens_at"] == datetime(2026, 11, 24, 0, 0, tzinfo=NAIROBI)


def test_open_days_stop_at_the_horizon(far: Runtime) -> None:
    card = _dept(far, "CARD")
    days = far.booking.open_days(card)
    assert days[0].isoformat() == "2026-11-23" and days[-1].isoformat() == "2026-12-07"
    assert far.booking.free_slots(card, days[-1] + timedelta(days=1)) == []


def test_release_time_from_per_hospital_rules(far: Runtime) -> None:
    rules = far.settings.booking
    knh = replace(rules.defaults, release_time=datetime(2000, 1, 1, 7, 0).time())
    far.booking.rules = BookingSettings(defaults=rules.defaults, hospitals={"KNH": knh})
    sid = slot_id(far, "CARD", datetime(2026, 12, 7, 8, 0))  # opens Mon 23 Nov 07:00
    with pytest.raises(OutsideHorizon):
        far.booking.book(PHONE, sid, "ussd")
    at(far, 2026, 11, 23, 7, 0)
    assert far.booking.book(PHONE, sid, "ussd").status == "confirmed"


@pytest.mark.parametrize(
    ("now", "ok"), [((2026, 11, 23, 7, 59, 59), True), ((2026, 11, 23, 8, 0, 0), False)]
)
def test_booking_allowed_up_to_the_slot_start(catalog: Runtime, now: tuple, ok: bool) -> None:
    sid = slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0))
    at(catalog, *now)
    if ok:
        catalog.booking.book(PHONE, sid, "ussd")
    else:
        with pytest.raises(SlotStarted):
            catalog.booking.book(PHONE, sid, "ussd")


def test_at_most_two_bookings_per_person_per_day(catalog: Runtime) -> None:
    catalog.booking.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0)), "ussd")
    catalog.booking.book(PHONE, slot_id(catalog, "DERM", datetime(2026, 11, 23, 8, 0)), "ussd")
    third = slot_id(catalog, "CCC", datetime(2026, 11, 23, 9, 0))
    with pytest.raises(LimitPerDay) as refused:
        catalog.booking.hold(PHONE, "s", third)
    assert refused.value.facts == {"limit": 2}
    # another day is fine
    catalog.booking.book(PHONE, slot_id(catalog, "CCC", datetime(2026, 11, 25, 9, 0)), "ussd")


def test_one_booking_per_department_per_day(catalog: Runtime) -> None:
    catalog.booking.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0)), "ussd")
    with pytest.raises(DepartmentSameDay):
        catalog.booking.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 9, 0)), "ussd")


def test_cancelled_booking_does_not_count_toward_limits(catalog: Runtime) -> None:
    first = catalog.booking.book(
        PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0)), "ussd"
    )
    catalog.booking.cancel(first.ref, by="citizen", phone=PHONE)
    catalog.booking.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 9, 0)), "ussd")


def test_per_hospital_limit_override(catalog: Runtime) -> None:
    rules = catalog.settings.booking
    catalog.booking.rules = BookingSettings(
        defaults=rules.defaults, hospitals={"KNH": replace(rules.defaults, max_per_day=1)}
    )
    catalog.booking.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0)), "ussd")
    with pytest.raises(LimitPerDay) as refused:
        catalog.booking.book(PHONE, slot_id(catalog, "DERM", datetime(2026, 11, 23, 8, 0)), "ussd")
    assert refused.value.facts == {"limit": 1}


@pytest.mark.parametrize(
    ("now", "ok"), [((2026, 11, 23, 8, 0, 0), True), ((2026, 11, 23, 8, 0, 1), False)]
)
def test_citizen_may_cancel_until_two_hours_before(catalog: Runtime, now: tuple, ok: bool) -> None:
    booked = catalog.booking.book(
        PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 23, 10, 0)), "ussd"
    )
    at(catalog, *now)
    if ok:
        catalog.booking.cancel(booked.ref, by="citizen", phone=PHONE)
        return
    with pytest.raises(DeadlinePassed) as refused:
        catalog.booking.cancel(booked.ref, by="citizen", phone=PHONE)
    assert refused.value.facts["deadline"] == datetime(2026, 11, 23, 8, 0, tzinfo=NAIROBI)
    # staff may cancel at any time
    assert catalog.booking.cancel(booked.ref, by="staff", reason="doctor ill").status == "cancelled"


def test_blocked_citizen_is_told_until_when(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0))
    catalog.booking.book(PHONE, slot_id(catalog, "DERM", datetime(2026, 11, 24, 8, 0)), "ussd")
    with catalog.writer() as s:
        citizen = s.query(Citizen).filter_by(phone=PHONE).one()
        citizen.blocked_until = datetime(2026, 12, 20, 21, 0, tzinfo=UTC)
        s.commit()
    with pytest.raises(Blocked) as refused:
        catalog.booking.hold(PHONE, "s", sid)
    # 21:00 UTC is midnight in Nairobi: the block ends as 21 Dec begins there
    assert refused.value.facts["until"].isoformat() == "2026-12-21"
    clock_of(catalog).at = datetime(2026, 12, 20, 21, 0, 1, tzinfo=UTC)
    refuse_if_blocked(catalog, PHONE)  # the block has ended: no refusal


def _dept(rt: Runtime, code: str) -> int:
    city = next(c for c in rt.booking.cities() if c.code == "NBO")
    hospital = next(h for h in rt.booking.hospitals(city.id) if h.code == "KNH")
    return next(d for d in rt.booking.departments(hospital.id) if d.code == code).id
