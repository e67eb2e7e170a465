"""Check-in windows that cross midnight (finding 15): the window decides, not the date.

Hospital time is Africa/Nairobi; the rules are the defaults (120 minutes before the slot,
30 after). Saturday 5 and Sunday 6 December 2026 are the review's reproduction dates.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import CheckInRefused
from gateway.booking.models import Booking
from gateway.booking.operations.checkin import check_desk_day, check_time, desk_check_in
from gateway.runtime import Runtime
from gateway.settings import BookingRules
from tests.booking.conftest import NAIROBI, slot_id

RULES = BookingRules()  # check-in from 120 minutes before to 30 minutes after the start


def local(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=NAIROBI)


SAT_2345, SUN_0030, MON_0800 = local(5, 23, 45), local(6, 0, 30), local(7, 8, 0)

KIOSK = [
    # (label, slot start, now, expected refusal or None, the refusal's date or time fact)
    ("Sun 00:30 at Sat 23:00: window opened 22:30", SUN_0030, local(5, 23, 0), None, None),
    ("Sun 00:30 at Sat 22:30: first instant", SUN_0030, local(5, 22, 30), None, None),
    ("Sat 23:45 at Sun 00:05: inside the grace", SAT_2345, local(6, 0, 5), None, None),
    ("Sat 23:45 at Sun 00:15: last instant", SAT_2345, local(6, 0, 15), None, None),
    (
        "Sun 00:30 at Sat 22:29:59: opens tonight",
        SUN_0030,
        local(5, 22, 29, 59),
        "too_early",
        local(5, 22, 30),
    ),
    (
        "Sat 23:45 at Sun 00:15:01: closed minutes ago",
        SAT_2345,
        local(6, 0, 15, 1),
        "too_late",
        None,
    ),
    ("Sun 00:30 at Sun 01:01", SUN_0030, local(6, 1, 1), "too_late", None),
    (
        "Sun 00:30 at Fri 23:00: another evening",
        SUN_0030,
        local(4, 23, 0),
        "wrong_day",
        SUN_0030.date(),
    ),
    ("Sat 23:45 at Mon 00:05: a day late", SAT_2345, local(7, 0, 5), "wrong_day", SAT_2345.date()),
    ("Mon 08:00 at Sun 08:00", MON_0800, local(6, 8, 0), "wrong_day", MON_0800.date()),
    ("Mon 08:00 at Mon 05:59", MON_0800, local(7, 5, 59), "too_early", local(7, 6, 0)),
    ("Mon 08:00 at Mon 08:31", MON_0800, local(7, 8, 31), "too_late", None),
    ("Mon 08:00 at Mon 07:00", MON_0800, local(7, 7, 0), None, None),
]

FACT = {"too_early": "opens_at", "wrong_day": "day"}


@pytest.mark.parametrize(
    ("starts_at", "now", "status", "fact"),
    [case[1:] for case in KIOSK],
    ids=[case[0] for case in KIOSK],
)
def test_the_kiosk_decides_on_the_window_first(
    starts_at: datetime, now: datetime, status: str | None, fact: object
) -> None:
    utc_now = now.astimezone(UTC)  # the clock is UTC; the rule must not care
    if status is None:
        check_time(starts_at.astimezone(UTC), starts_at.date(), RULES, NAIROBI, utc_now)
        return
    with pytest.raises(CheckInRefused) as refused:
        check_time(starts_at.astimezone(UTC), starts_at.date(), RULES, NAIROBI, utc_now)
    assert refused.value.status == status
    assert refused.value.facts["starts_at"] == starts_at
    if status in FACT:
        assert refused.value.facts[FACT[status]] == fact


DESK = [
    # (label, slot start, now, rules, allowed)
    ("Sun 00:30 at Sat 23:00: inside the window", SUN_0030, local(5, 23, 0), RULES, True),
    ("Sat 23:45 at Sun 00:05: inside the grace", SAT_2345, local(6, 0, 5), RULES, True),
    ("Mon 08:00 at Mon 17:00: staff override the window", MON_0800, local(7, 17, 0), RULES, True),
    ("Mon 08:00 at Mon 00:01: the same day", MON_0800, local(7, 0, 1), RULES, True),
    ("Sun 00:30 at Sat 21:00: before the window", SUN_0030, local(5, 21, 0), RULES, False),
    ("Sat 23:45 at Sun 01:00: after the window", SAT_2345, local(6, 1, 0), RULES, False),
    ("Mon 08:00 at Sun 23:00", MON_0800, local(6, 23, 0), RULES, False),
    ("no rules: the day alone", SUN_0030, local(5, 23, 0), None, False),
]


@pytest.mark.parametrize(
    ("starts_at", "now", "rules", "allowed"),
    [case[1:] for case in DESK],
    ids=[case[0] for case in DESK],
)
def test_the_desk_takes_the_slots_day_or_its_window(
    starts_at: datetime, now: datetime, rules: BookingRules | None, allowed: bool
) -> None:
    args = (starts_at.astimezone(UTC), starts_at.date(), rules, NAIROBI, now.astimezone(UTC))
    if allowed:
        check_desk_day(*args)
        return
    with pytest.raises(CheckInRefused) as refused:
        check_desk_day(*args)
    assert refused.value.status == "wrong_day"
    assert refused.value.facts == {"day": starts_at.date(), "starts_at": starts_at}


def test_the_desk_checks_in_a_night_slot_the_evening_before(catalog: Runtime) -> None:
    """The 24-hour clinic's Tuesday 00:30 slot, at the desk on Monday at 23:50."""
    sid = slot_id(catalog, "DEMO", datetime(2026, 11, 24, 0, 30), hospital="MCH")
    booked = catalog.booking.book("+254700000001", sid, "ussd")
    now = local(23, 23, 50, month=11).astimezone(UTC)
    with catalog.engine.begin() as conn:
        ticket = desk_check_in(
            conn, catalog.booking.catalogue, booked.ref, now, catalog.settings.booking
        )
    assert ticket.queue_number == 1
    assert ticket.checked_in_at == local(23, 23, 50, month=11)
    with catalog.reader() as session:
        status = session.scalar(select(Booking.status).where(Booking.ref == booked.ref))
    assert status == "checked_in"
