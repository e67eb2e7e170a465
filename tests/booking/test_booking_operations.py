"""Hold, book, cancel: places, holds, idempotency and the events each writes (both backends)."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.booking.domain.errors import (
    NotActive,
    NotFound,
    NotOwner,
    SlotFull,
)
from gateway.runtime import Runtime
from tests.booking.conftest import (
    count_bookings,
    count_holds,
    events,
    last_event_id,
    slot_id,
    slot_row,
)
from tests.clocks import clock_of

MON_0800 = datetime(2026, 11, 23, 8, 0)
MON_0830 = datetime(2026, 11, 23, 8, 30)
PHONE_A, PHONE_B, PHONE_C = "+254700000001", "+254700000002", "+254700000003"


def test_book_issues_voucher_and_takes_a_remote_place(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    confirmation = catalog.booking.book(PHONE_A, sid, "ussd", "k1")
    assert confirmation.created and confirmation.status == "confirmed"
    assert len(confirmation.tcode) == 10 and len(confirmation.voucher_ref) == 11
    assert confirmation.starts_at.strftime("%a %H:%M") == "Mon 08:00"
    assert slot_row(catalog, sid).remote_taken == 1


def test_local_phone_numbers_are_read_as_e164(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.book("0700 000001", sid, "ussd")
    assert [b.ref for b in catalog.booking.upcoming(PHONE_A)]


def test_remote_capacity_is_never_exceeded(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)  # 4 places, remote share 0.5 → 2 remote
    catalog.booking.book(PHONE_A, sid, "ussd")
    catalog.booking.book(PHONE_B, sid, "ivr")
    with pytest.raises(SlotFull) as refused:
        catalog.booking.book(PHONE_C, sid, "ussd")
    assert refused.value.code == "slot_full"
    assert [t.strftime("%H:%M") for t in refused.value.facts["next_times"]] == [
        "08:30",
        "09:00",
        "09:30",
    ]
    assert slot_row(catalog, sid).remote_taken == 2 == count_bookings(catalog, sid)


def test_retried_book_with_same_key_returns_same_booking_and_one_event(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    before = last_event_id(catalog)
    first = catalog.booking.book(PHONE_A, sid, "ussd", "session-1:book")
    again = catalog.booking.book(PHONE_A, sid, "ussd", "session-1:book")
    assert (again.ref, again.tcode, again.created) == (first.ref, first.tcode, False)
    assert [e.type for e in events(catalog, before)] == ["booking.confirmed"]
    assert slot_row(catalog, sid).remote_taken == 1


def test_held_place_is_not_offered_to_others(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.hold(PHONE_A, "s-a", sid)
    catalog.booking.hold(PHONE_B, "s-b", sid)
    card = _dept_id(catalog, "CARD")
    free = {s.id: s.places_left for s in catalog.booking.free_slots(card, MON_0800.date())}
    assert sid not in free
    with pytest.raises(SlotFull):
        catalog.booking.hold(PHONE_C, "s-c", sid)
    # the holders book without needing another place
    catalog.booking.book(PHONE_A, sid, "ussd")
    assert slot_row(catalog, sid).remote_taken == 2
    assert count_holds(catalog, sid) == 1


def test_expired_hold_frees_its_place(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.hold(PHONE_A, "s-a", sid)
    catalog.booking.hold(PHONE_B, "s-b", sid)
    clock_of(catalog).advance(minutes=5, seconds=1)
    # the slot looks full, but its expired holds are released lazily for the new caller
    catalog.booking.hold(PHONE_C, "s-c", sid)
    assert slot_row(catalog, sid).remote_taken == 1 == count_holds(catalog, sid)
    assert catalog.booking.current_hold(PHONE_A) is None


def test_expired_hold_whose_place_was_taken_is_refused_with_other_times(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.hold(PHONE_A, "s-a", sid)
    clock_of(catalog).advance(minutes=6)
    catalog.booking.book(PHONE_B, sid, "ussd")
    catalog.booking.book(PHONE_C, sid, "ussd")  # finds the slot full and releases A's hold
    with pytest.raises(SlotFull) as refused:
        catalog.booking.book(PHONE_A, sid, "ussd")
    assert refused.value.facts["next_times"]
    assert slot_row(catalog, sid).remote_taken == 2 == count_bookings(catalog, sid)


def test_expired_hold_with_place_still_free_books(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.hold(PHONE_A, "s-a", sid)
    clock_of(catalog).advance(minutes=6)
    catalog.booking.book(PHONE_A, sid, "ussd")
    assert slot_row(catalog, sid).remote_taken == 1 == count_bookings(catalog, sid)
    assert count_holds(catalog, sid) == 0


def test_new_hold_by_same_phone_replaces_the_old(catalog: Runtime) -> None:
    first, second = slot_id(catalog, "CARD", MON_0800), slot_id(catalog, "CARD", MON_0830)
    catalog.booking.hold(PHONE_A, "s-a", first)
    before = last_event_id(catalog)
    held = catalog.booking.hold(PHONE_A, "s-a", second)
    assert held.slot_id == second
    assert (slot_row(catalog, first).remote_taken, slot_row(catalog, second).remote_taken) == (0, 1)
    assert [e.type for e in events(catalog, before)] == ["hold.released", "hold.placed"]


def test_same_slot_held_again_keeps_one_place(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.hold(PHONE_A, "s-a", sid)
    catalog.booking.hold(PHONE_A, "s-a2", sid)  # a retried hop or a redial that resumes
    assert slot_row(catalog, sid).remote_taken == 1


def test_dropped_session_keeps_hold_until_release(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.hold(PHONE_A, "s-a", sid)
    clock_of(catalog).advance(minutes=3)
    resumed = catalog.booking.current_hold(PHONE_A)
    assert resumed is not None and resumed.slot_id == sid
    assert resumed.starts_at.strftime("%a %d %b %H:%M") == "Mon 23 Nov 08:00"
    assert catalog.booking.release_hold(PHONE_A) is True
    assert slot_row(catalog, sid).remote_taken == 0
    assert catalog.booking.release_hold(PHONE_A) is False


def test_release_expired_holds_sweeps_all(catalog: Runtime) -> None:
    a, b = slot_id(catalog, "CARD", MON_0800), slot_id(catalog, "CARD", MON_0830)
    catalog.booking.hold(PHONE_A, "s-a", a)
    catalog.booking.hold(PHONE_B, "s-b", b)
    clock_of(catalog).advance(minutes=10)
    assert catalog.booking.release_expired_holds() == 2
    assert slot_row(catalog, a).remote_taken == slot_row(catalog, b).remote_taken == 0


def test_citizen_cancel_frees_place_and_voids_voucher(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    booked = catalog.booking.book(PHONE_A, sid, "ussd")
    before = last_event_id(catalog)
    cancelled = catalog.booking.cancel(
        booked.ref, by="citizen", reason="feeling better", phone=PHONE_A
    )
    assert cancelled.status == "cancelled"
    assert slot_row(catalog, sid).remote_taken == 0
    assert [e.type for e in events(catalog, before)] == ["booking.cancelled"]
    assert catalog.booking.upcoming(PHONE_A) == []
    with pytest.raises(NotActive):
        catalog.booking.cancel(booked.ref, by="citizen", phone=PHONE_A)


def test_cancel_from_another_phone_is_refused(catalog: Runtime) -> None:
    booked = catalog.booking.book(PHONE_A, slot_id(catalog, "CARD", MON_0800), "sms")
    with pytest.raises(NotOwner):
        catalog.booking.cancel(booked.ref, by="citizen", phone=PHONE_B)
    assert catalog.booking.booking(booked.ref).status == "confirmed"


def test_cancel_unknown_booking(catalog: Runtime) -> None:
    with pytest.raises(NotFound):
        catalog.booking.cancel("NOPE2345", by="staff")


def test_failed_unit_of_work_leaves_nothing(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    catalog.booking.book(PHONE_A, sid, "ussd")
    catalog.booking.book(PHONE_B, sid, "ussd")
    before = last_event_id(catalog)
    with pytest.raises(SlotFull):
        catalog.booking.book(PHONE_C, sid, "ussd")
    assert events(catalog, before) == []
    assert catalog.booking.upcoming(PHONE_C) == []


def test_upcoming_lists_confirmed_bookings_soonest_first(catalog: Runtime) -> None:
    later = catalog.booking.book(
        PHONE_A, slot_id(catalog, "DERM", datetime(2026, 11, 24, 9, 0)), "ussd"
    )
    sooner = catalog.booking.book(PHONE_A, slot_id(catalog, "CARD", MON_0800), "ussd")
    listed = catalog.booking.upcoming(PHONE_A)
    assert [b.ref for b in listed] == [sooner.ref, later.ref]
    assert listed[0].tcode == sooner.tcode and listed[0].department == "Cardiology"


def _dept_id(rt: Runtime, code: str) -> int:
    city = next(c for c in rt.booking.cities() if c.code == "NBO")
    hospital = next(h for h in rt.booking.hospitals(city.id) if h.code == "KNH")
    return next(d for d in rt.booking.departments(hospital.id) if d.code == code).id
