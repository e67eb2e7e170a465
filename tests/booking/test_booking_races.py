"""Real threads racing on PostgreSQL: capacity and per-person rules hold under concurrency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest

from gateway.booking.domain.errors import BookingError, CheckInRefused
from gateway.runtime import Runtime
from tests.booking.conftest import (
    POSTGRES_ONLY,
    at,
    count_bookings,
    count_holds,
    events,
    last_event_id,
    set_capacity,
    slot_id,
    slot_row,
)
from tests.booking.races import race


@POSTGRES_ONLY
def test_fifty_callers_on_the_last_ten_places_give_ten_bookings(catalog: Runtime) -> None:
    sid = slot_id(catalog, "DEMO", datetime(2026, 11, 23, 10, 0), hospital="MCH")
    set_capacity(catalog, sid, capacity=14, remote=10)
    outcomes = race(50, lambda i: catalog.booking.book(f"+2547000{i:05d}", sid, "ussd", f"k{i}"))
    assert outcomes == Counter({"ok": 10, "slot_full": 40})
    slot = slot_row(catalog, sid)
    assert slot.remote_taken == 10 == count_bookings(catalog, sid)


@POSTGRES_ONLY
def test_holds_and_bookings_mixed_never_oversell(catalog: Runtime) -> None:
    sid = slot_id(catalog, "DEMO", datetime(2026, 11, 23, 10, 0), hospital="MCH")
    set_capacity(catalog, sid, capacity=10, remote=10)

    def attempt(i: int) -> object:
        phone = f"+2547100{i:05d}"
        if i % 2:
            return catalog.booking.hold(phone, f"s{i}", sid)
        return catalog.booking.book(phone, sid, "ivr")

    outcomes = race(50, attempt)
    assert outcomes == Counter({"ok": 10, "slot_full": 40})
    assert (
        slot_row(catalog, sid).remote_taken
        == 10
        == count_bookings(catalog, sid) + count_holds(catalog, sid)
    )


@POSTGRES_ONLY
def test_same_citizen_booking_ten_times_in_parallel_gets_one(catalog: Runtime) -> None:
    starts = [datetime(2026, 11, 23, h, m) for h in (10, 11, 12, 13, 14) for m in (0, 30)]
    slots = [slot_id(catalog, "DEMO", s, hospital="MCH") for s in starts]
    outcomes = race(10, lambda i: catalog.booking.book("+254700000001", slots[i], "ussd"))
    assert outcomes == Counter({"ok": 1, "department_same_day": 9})
    assert sum(slot_row(catalog, s).remote_taken for s in slots) == 1


@POSTGRES_ONLY
def test_double_submitted_request_creates_one_booking(catalog: Runtime) -> None:
    sid = slot_id(catalog, "DEMO", datetime(2026, 11, 23, 10, 0), hospital="MCH")
    refs: set[str] = set()
    outcomes = race(
        10, lambda i: refs.add(catalog.booking.book("+254700000001", sid, "ussd", "dup").ref)
    )
    assert outcomes == Counter({"ok": 10}) and len(refs) == 1
    assert count_bookings(catalog, sid) == 1 == slot_row(catalog, sid).remote_taken


# --- kiosk check-in: one read decides, conditional updates write -------------------------------


def scan_race(n: int, attempt: Callable[[int], object]) -> Counter[str]:
    """`race` for check-ins: outcomes are `checked_in` or the kiosk status of the refusal."""

    def checked_in(i: int) -> None:
        try:
            attempt(i)
        except CheckInRefused as refused:
            raise _Refusal(refused.status) from None

    return Counter({("checked_in" if k == "ok" else k): v for k, v in race(n, checked_in).items()})


class _Refusal(BookingError):
    def __init__(self, status: str):
        super().__init__()
        self.code = status


MON_0800 = datetime(2026, 11, 23, 8, 0)


@POSTGRES_ONLY
def test_one_voucher_scanned_at_eight_kiosks_at_once_checks_in_once(catalog: Runtime) -> None:
    tcode = catalog.booking.book("+254700000001", slot_id(catalog, "CARD", MON_0800), "ussd").tcode
    at(catalog, 2026, 11, 23, 7, 0)
    before = last_event_id(catalog)
    outcomes = scan_race(8, lambda i: catalog.booking.check_in(tcode, "KNH"))
    assert outcomes == Counter({"checked_in": 1, "already_checked_in": 7})
    assert [e.type for e in events(catalog, before)] == ["booking.checked_in"]
    with pytest.raises(CheckInRefused) as again:
        catalog.booking.check_in(tcode, "KNH")
    assert again.value.status == "already_checked_in"
    assert again.value.facts["ticket"].queue_number == 1


@POSTGRES_ONLY
def test_forty_vouchers_at_once_get_queue_numbers_one_to_forty(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    set_capacity(catalog, sid, capacity=40, remote=40)
    tcodes = [catalog.booking.book(f"+2547200{i:05d}", sid, "ussd").tcode for i in range(40)]
    at(catalog, 2026, 11, 23, 7, 0)
    numbers: list[int] = []
    outcomes = scan_race(
        40,
        lambda i: numbers.append(catalog.booking.check_in(tcodes[i], "KNH").queue_number or 0),
    )
    assert outcomes == Counter({"checked_in": 40})
    assert sorted(numbers) == list(range(1, 41))


@POSTGRES_ONLY
def test_check_in_racing_a_cancellation_never_does_both(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    set_capacity(catalog, sid, capacity=20, remote=20)
    booked = [catalog.booking.book(f"+2547300{i:05d}", sid, "ussd") for i in range(10)]
    at(catalog, 2026, 11, 23, 7, 0)
    kiosk: Counter[str] = Counter()
    desk: Counter[str] = Counter()

    def attempt(i: int) -> None:
        mine = booked[i // 2]
        try:
            if i % 2:
                catalog.booking.cancel(mine.ref, by="staff", reason="race")
                desk["cancelled"] += 1
            else:
                catalog.booking.check_in(mine.tcode, "KNH")
                kiosk["checked_in"] += 1
        except CheckInRefused as refused:
            kiosk[refused.status] += 1
        except BookingError as refused:
            desk[refused.code] += 1

    race(20, attempt)
    # Each pair: the check-in won (the cancel finds it no longer active), or the cancel did
    # (the kiosk says cancelled) — never both.
    assert kiosk["checked_in"] == desk["not_active"] == count_bookings(catalog, sid, "checked_in")
    assert kiosk["cancelled"] == desk["cancelled"] == count_bookings(catalog, sid, "cancelled")
    assert kiosk.total() == desk.total() == 10 == kiosk["checked_in"] + kiosk["cancelled"]
