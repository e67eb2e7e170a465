"""Rebook: same reference in the same hospital, cancel + new elsewhere, all or nothing."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import (
    CheckInRefused,
    DeadlinePassed,
    DepartmentSameDay,
    NotActive,
    NotOwner,
    SlotFull,
)
from gateway.booking.models import Booking, Citizen, Voucher
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
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
    staff_actions,
    use_rules,
)
from tests.booking.races import race

A, B, C = "+254700000001", "+254700000002", "+254700000003"
TUE_0800, TUE_0900 = datetime(2026, 11, 24, 8, 0), datetime(2026, 11, 24, 9, 0)


def card(rt: Runtime, local: datetime) -> int:
    return slot_id(rt, "CARD", local)


def voucher_states(rt: Runtime, ref: str) -> list[tuple[str, str]]:
    with rt.reader() as s:
        booking = s.scalars(select(Booking).where(Booking.ref == ref)).one()
        rows = s.scalars(
            select(Voucher).where(Voucher.booking_id == booking.id).order_by(Voucher.id)
        )
        return [(v.tcode, v.state) for v in rows]


def test_same_hospital_keeps_the_reference_and_replaces_the_voucher(catalog: Runtime) -> None:
    old_slot, new_slot = card(catalog, TUE_0800), card(catalog, TUE_0900)
    booked = catalog.booking.book(A, old_slot, "ussd")
    before = last_event_id(catalog)
    moved = catalog.booking.rebook(booked.ref, new_slot, by="citizen", phone=A)
    assert moved.ref == booked.ref and not moved.created
    assert moved.tcode != booked.tcode and moved.starts_at.strftime("%a %H:%M") == "Tue 09:00"
    assert voucher_states(catalog, booked.ref) == [
        (booked.tcode, "replaced"),
        (moved.tcode, "issued"),
    ]
    assert (slot_row(catalog, old_slot).remote_taken, slot_row(catalog, new_slot).remote_taken) == (
        0,
        1,
    )
    written = events(catalog, before)
    assert [(e.type, e.subject_id) for e in written] == [("booking.rebooked", booked.ref)]
    assert written[0].payload["old_slot_id"] == old_slot
    assert written[0].payload["slot_id"] == new_slot and written[0].payload["by"] == "citizen"
    at(catalog, 2026, 11, 24, 8, 0)
    with pytest.raises(CheckInRefused) as refused:
        catalog.booking.check_in(booked.tcode, "KNH")
    assert refused.value.status == "replaced"
    assert catalog.booking.check_in(moved.tcode, "KNH").queue_number == 1


def test_rebook_to_a_full_slot_leaves_the_booking_untouched(catalog: Runtime) -> None:
    old_slot, full = card(catalog, TUE_0800), card(catalog, TUE_0900)
    booked = catalog.booking.book(A, old_slot, "ussd")
    catalog.booking.book(B, full, "ussd")
    catalog.booking.book(C, full, "ussd")  # two remote places: now full
    before = last_event_id(catalog)
    with pytest.raises(SlotFull) as refused:
        catalog.booking.rebook(booked.ref, full, by="citizen", phone=A)
    assert refused.value.facts["next_times"]
    after = catalog.booking.booking(booked.ref)
    assert (after.status, after.tcode, after.starts_at) == (
        "confirmed",
        booked.tcode,
        booked.starts_at,
    )
    assert voucher_states(catalog, booked.ref) == [(booked.tcode, "issued")]
    assert (slot_row(catalog, old_slot).remote_taken, slot_row(catalog, full).remote_taken) == (
        1,
        2,
    )
    assert events(catalog, before) == []


def test_another_hospital_cancels_and_books_anew(catalog: Runtime) -> None:
    use_rules(catalog, cancel_block=BlockPolicy(count=1, window_days=30, block_days=7))
    old_slot = card(catalog, TUE_0800)
    mch = slot_id(catalog, "DEMO", datetime(2026, 11, 24, 10, 0), hospital="MCH")
    booked = catalog.booking.book(A, old_slot, "ussd")
    before = last_event_id(catalog)
    moved = catalog.booking.rebook(booked.ref, mch, by="citizen", phone=A)
    assert moved.created and moved.ref != booked.ref and moved.hospital_code == "MCH"
    assert catalog.booking.booking(booked.ref).status == "cancelled"
    assert voucher_states(catalog, booked.ref) == [(booked.tcode, "cancelled")]
    assert (slot_row(catalog, old_slot).remote_taken, slot_row(catalog, mch).remote_taken) == (0, 1)
    written = events(catalog, before)
    assert [(e.type, e.subject_id) for e in written] == [
        ("booking.cancelled", booked.ref),
        ("booking.confirmed", moved.ref),
    ]
    assert written[0].payload["rebooked_to"] == moved.ref
    assert written[1].payload["rebooked_from"] == booked.ref
    with catalog.reader() as s:  # a rebook is no cancellation strike, even at count 1
        assert s.scalars(select(Citizen).where(Citizen.phone == A)).one().blocked_until is None


def test_the_phones_live_hold_on_the_new_slot_is_used(catalog: Runtime) -> None:
    old_slot, new_slot = card(catalog, TUE_0800), card(catalog, datetime(2026, 11, 25, 9, 0))
    booked = catalog.booking.book(A, old_slot, "ussd")
    catalog.booking.hold(A, "s1", new_slot)
    catalog.booking.rebook(booked.ref, new_slot, by="citizen", phone=A)
    assert count_holds(catalog, new_slot) == 0
    assert slot_row(catalog, new_slot).remote_taken == 1 == count_bookings(catalog, new_slot)


def test_the_old_booking_does_not_count_toward_the_per_person_limits(catalog: Runtime) -> None:
    booked = catalog.booking.book(A, card(catalog, TUE_0800), "ussd")  # same department, same day
    assert catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="citizen", phone=A)


def test_other_bookings_still_count(catalog: Runtime) -> None:
    catalog.booking.book(A, card(catalog, TUE_0900), "ussd")
    derm = catalog.booking.book(A, slot_id(catalog, "DERM", TUE_0800), "ussd")
    with pytest.raises(DepartmentSameDay):
        catalog.booking.rebook(derm.ref, card(catalog, datetime(2026, 11, 24, 10, 0)), "staff")
    assert catalog.booking.booking(derm.ref).department == "Dermatology"


def test_citizens_rebook_only_from_the_owners_phone(catalog: Runtime) -> None:
    booked = catalog.booking.book(A, card(catalog, TUE_0800), "ussd")
    with pytest.raises(NotOwner):
        catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="citizen", phone=B)
    with pytest.raises(NotOwner):
        catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="citizen")


def test_citizens_before_the_deadline_staff_any_time(catalog: Runtime) -> None:
    booked = catalog.booking.book(A, card(catalog, TUE_0800), "ussd")
    at(catalog, 2026, 11, 24, 6, 0, 1)  # the deadline was 06:00
    with pytest.raises(DeadlinePassed):
        catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="citizen", phone=A)
    moved = catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="staff", actor="nurse")
    assert moved.starts_at.hour == 9
    assert [(a.actor, a.action, a.subject) for a in staff_actions(catalog)] == [
        ("nurse", "rebook", booked.ref)
    ]


def test_a_retried_rebook_changes_nothing(catalog: Runtime) -> None:
    booked = catalog.booking.book(A, card(catalog, TUE_0800), "ussd")
    first = catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="citizen", phone=A)
    before = last_event_id(catalog)
    again = catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="citizen", phone=A)
    assert again.tcode == first.tcode and events(catalog, before) == []


def test_a_cancelled_booking_cannot_be_rebooked(catalog: Runtime) -> None:
    booked = catalog.booking.book(A, card(catalog, TUE_0800), "ussd")
    catalog.booking.cancel(booked.ref, by="citizen", phone=A)
    with pytest.raises(NotActive):
        catalog.booking.rebook(booked.ref, card(catalog, TUE_0900), by="citizen", phone=A)


@POSTGRES_ONLY
def test_ten_rebooks_racing_for_the_last_place_give_it_to_one(catalog: Runtime) -> None:
    target = slot_id(catalog, "DEMO", datetime(2026, 11, 24, 10, 0), hospital="MCH")
    set_capacity(catalog, target, capacity=1, remote=1)
    starts = [datetime(2026, 11, 24, 11 + i // 2, 30 * (i % 2)) for i in range(10)]
    refs = [
        catalog.booking.book(f"+2547200{i:05d}", slot_id(catalog, "DEMO", s, "MCH"), "ussd").ref
        for i, s in enumerate(starts)
    ]
    outcomes = race(10, lambda i: catalog.booking.rebook(refs[i], target, by="staff"))
    assert outcomes == Counter({"ok": 1, "slot_full": 9})
    assert slot_row(catalog, target).remote_taken == 1 == count_bookings(catalog, target)
    assert sum(count_bookings(catalog, slot_id(catalog, "DEMO", s, "MCH")) for s in starts) == 9
