"""Real threads racing on PostgreSQL: capacity and per-person rules hold under concurrency."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from gateway.booking.errors import BookingError
from gateway.runtime import Runtime
from tests.booking.conftest import (
    POSTGRES_ONLY,
    count_bookings,
    count_holds,
    set_capacity,
    slot_id,
    slot_row,
)


def race(n: int, attempt: Callable[[int], object]) -> Counter[str]:
    """Run `attempt(i)` for i in range(n) on n threads released at once; count outcomes."""
    barrier = threading.Barrier(n)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempt(i)
            result = "ok"
        except BookingError as exc:
            result = exc.code
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


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
