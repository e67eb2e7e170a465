"""check_in: queue numbers and every refusal, at the window's edges (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update

from gateway.booking.domain.errors import CheckInRefused
from gateway.booking.models import Voucher
from gateway.runtime import Runtime
from tests.booking.conftest import NAIROBI, events, last_event_id, slot_id
from tests.clocks import clock_of

PHONE_A, PHONE_B = "+254700000001", "+254700000002"
MON_0800 = datetime(2026, 11, 23, 8, 0)


def at(
    rt: Runtime, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> None:
    wall = datetime(year, month, day, hour, minute, second, tzinfo=NAIROBI)
    clock_of(rt).at = wall.astimezone(UTC)


def refusal(rt: Runtime, tcode: str, hospital: str = "KNH") -> CheckInRefused:
    with pytest.raises(CheckInRefused) as refused:
        rt.booking.check_in(tcode, hospital)
    return refused.value


@pytest.fixture
def booked(catalog: Runtime) -> str:
    """T-code of a Monday 08:00 Cardiology booking (check-in window 06:00–08:30)."""
    return catalog.booking.book(PHONE_A, slot_id(catalog, "CARD", MON_0800), "ussd").tcode


def test_check_in_gives_queue_numbers_in_arrival_order_per_department(
    catalog: Runtime, booked: str
) -> None:
    second = catalog.booking.book(
        PHONE_B, slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 30)), "ussd"
    )
    other = catalog.booking.book(PHONE_B, slot_id(catalog, "DERM", MON_0800), "ussd")
    at(catalog, 2026, 11, 23, 7, 0)
    before = last_event_id(catalog)
    first_ticket = catalog.booking.check_in(second.tcode, "KNH")
    ticket = catalog.booking.check_in(booked, "KNH")
    derm = catalog.booking.check_in(other.tcode, "KNH")
    assert (first_ticket.queue_number, ticket.queue_number, derm.queue_number) == (1, 2, 1)
    assert ticket.department == "Cardiology" and ticket.room == "Block B, Room 12"
    assert ticket.doctor == "Dr. Achieng Otieno" and ticket.hospital == "Kenyatta National Hospital"
    assert ticket.starts_at == datetime(2026, 11, 23, 8, 0, tzinfo=NAIROBI)
    assert ticket.checked_in_at == datetime(2026, 11, 23, 7, 0, tzinfo=NAIROBI)
    assert [e.type for e in events(catalog, before)] == ["booking.checked_in"] * 3


def test_rescan_answers_already_checked_in_with_first_time_and_no_event(
    catalog: Runtime, booked: str
) -> None:
    at(catalog, 2026, 11, 23, 7, 0)
    catalog.booking.check_in(booked, "KNH")
    at(catalog, 2026, 11, 23, 7, 5)
    before = last_event_id(catalog)
    refused = refusal(catalog, booked)
    assert refused.status == "already_checked_in"
    assert refused.facts["checked_in_at"] == datetime(2026, 11, 23, 7, 0, tzinfo=NAIROBI)
    assert refused.facts["ticket"].queue_number == 1
    assert events(catalog, before) == []


@pytest.mark.parametrize(
    ("now", "status"),
    [
        ((2026, 11, 23, 5, 59, 59), "too_early"),
        ((2026, 11, 23, 6, 0, 0), None),  # 120 minutes before: first instant allowed
        ((2026, 11, 23, 8, 30, 0), None),  # 30 minutes after: last instant allowed
        ((2026, 11, 23, 8, 30, 1), "too_late"),
    ],
)
def test_check_in_window_edges(
    catalog: Runtime, booked: str, now: tuple, status: str | None
) -> None:
    at(catalog, *now)
    if status is None:
        assert catalog.booking.check_in(booked, "KNH").queue_number == 1
    else:
        assert refusal(catalog, booked).status == status


def test_wrong_day(catalog: Runtime) -> None:
    tuesday = catalog.booking.book(
        PHONE_A, slot_id(catalog, "CARD", datetime(2026, 11, 24, 8, 0)), "ussd"
    )
    at(catalog, 2026, 11, 23, 8, 0)
    refused = refusal(catalog, tuesday.tcode)
    assert refused.status == "wrong_day" and refused.facts["day"].isoformat() == "2026-11-24"


def test_wrong_hospital_names_the_right_one(catalog: Runtime, booked: str) -> None:
    at(catalog, 2026, 11, 23, 7, 0)
    refused = refusal(catalog, booked, hospital="MCH")
    assert refused.status == "wrong_hospital"
    assert refused.facts["hospital"] == "Kenyatta National Hospital"


def test_unknown_code(catalog: Runtime) -> None:
    assert refusal(catalog, "4829135575").status == "unknown_code"


def test_cancelled_voucher(catalog: Runtime, booked: str) -> None:
    ref = catalog.booking.upcoming(PHONE_A)[0].ref
    catalog.booking.cancel(ref, by="citizen", phone=PHONE_A)
    at(catalog, 2026, 11, 23, 7, 0)
    assert refusal(catalog, booked).status == "cancelled"


@pytest.mark.parametrize("state", ["replaced", "expired"])
def test_replaced_and_expired_vouchers(catalog: Runtime, booked: str, state: str) -> None:
    with catalog.writer() as s:  # rebook and expiry come with the second booking-core issue
        s.execute(update(Voucher).where(Voucher.tcode == booked).values(state=state))
        s.commit()
    at(catalog, 2026, 11, 23, 7, 0)
    assert refusal(catalog, booked).status == state


def test_lookup_validates_without_changing_anything(catalog: Runtime, booked: str) -> None:
    at(catalog, 2026, 11, 23, 7, 0)
    before = last_event_id(catalog)
    ticket = catalog.booking.check_in(booked, "KNH", dry_run=True)
    assert ticket.queue_number is None and ticket.checked_in_at is None
    assert events(catalog, before) == []
    assert catalog.booking.check_in(booked, "KNH").queue_number == 1


@pytest.mark.parametrize("state", ["cancelled", "replaced", "expired"])
def test_desk_refuses_a_confirmed_booking_whose_voucher_cannot_check_in(
    catalog: Runtime, booked: str, state: str
) -> None:
    """The kiosk's refusal for that voucher state, not an error; nothing is written."""
    with catalog.writer() as s:
        s.execute(update(Voucher).where(Voucher.tcode == booked).values(state=state))
        s.commit()
    at(catalog, 2026, 11, 23, 7, 0)
    ref = catalog.booking.upcoming(PHONE_A)[0].ref
    before = last_event_id(catalog)
    with pytest.raises(CheckInRefused) as refused:
        catalog.booking.desk_check_in(ref, actor="nurse")
    assert refused.value.status == state
    assert events(catalog, before) == []
    assert catalog.booking.upcoming(PHONE_A)[0].status == "confirmed"


def test_desk_checks_in_a_booking_without_a_voucher(catalog: Runtime, booked: str) -> None:
    """As the desk always did: a confirmed booking with no voucher row still checks in."""
    with catalog.writer() as s:
        s.execute(delete(Voucher).where(Voucher.tcode == booked))
        s.commit()
    at(catalog, 2026, 11, 23, 7, 0)
    ref = catalog.booking.upcoming(PHONE_A)[0].ref
    assert catalog.booking.desk_check_in(ref, actor="nurse").queue_number == 1
    [event] = [e for e in events(catalog) if e.type == "booking.checked_in"]
    assert event.payload["at"] == "desk"
