"""The desk's own operations on a booking (issue #20 item 5): mark a no-show as the sweep
does, undo a mistaken one (the block it caused goes with it), and send the voucher again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import Blocked, BookingError, ResentRecently
from gateway.booking.models import Booking, Citizen, Voucher
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import (
    POSTGRES_ONLY,
    at,
    events,
    last_event_id,
    set_capacity,
    slot_id,
    staff_actions,
    use_rules,
)
from tests.booking.races import race
from tests.clocks import clock_of
from tests.messaging.sms_phone import deliver, sent_to

A, B = "+254700000001", "+254700000002"
ONE_BLOCKS = BlockPolicy(count=1, window_days=90, block_days=30)
TWO_BLOCK = BlockPolicy(count=2, window_days=90, block_days=30)


def card(rt: Runtime, day: int, hour: int = 8) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, 0))


def booking(rt: Runtime, ref: str) -> tuple[str, str | None, str | None]:
    """The booking's status, who cancelled it and why."""
    with rt.reader() as s:
        b = s.scalars(select(Booking).where(Booking.ref == ref)).one()
        return b.status, b.cancelled_by, b.cancel_reason


def voucher_states(rt: Runtime, ref: str) -> list[str]:
    with rt.reader() as s:
        query = select(Voucher.state).join(Booking).where(Booking.ref == ref).order_by(Voucher.id)
        return list(s.scalars(query))


def blocked_until(rt: Runtime, phone: str = A) -> datetime | None:
    with rt.reader() as s:
        return s.scalars(select(Citizen.blocked_until).where(Citizen.phone == phone)).one()


def types_since(rt: Runtime, before: int) -> list[str]:
    return [e.type for e in events(rt, before)]


def missed(rt: Runtime, day: int, phone: str = A) -> str:
    """Book CARD 08:00 on `day` (Nov), then sweep at 09:00 that day: a no-show; its ref."""
    ref = rt.booking.book(phone, card(rt, day), "ussd").ref
    at(rt, 2026, 11, day, 9, 0)
    rt.booking.sweep()
    return ref


# --- marking ----------------------------------------------------------------------------------


def test_the_desk_marks_a_started_slot_a_no_show_as_the_sweep_does(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=ONE_BLOCKS)
    ref = catalog.booking.book(A, card(catalog, 23), "ussd").ref
    at(catalog, 2026, 11, 23, 8, 5)  # started; the window is still open until 08:30
    before = last_event_id(catalog)
    done = catalog.booking.mark_no_show(ref, "desk-1", "not in the hall")
    assert (done.ref, done.status) == (ref, "no_show")
    assert booking(catalog, ref)[0] == "no_show" and voucher_states(catalog, ref) == ["expired"]
    assert types_since(catalog, before) == ["booking.no_show", "citizen.blocked"]
    assert blocked_until(catalog) is not None  # the hospital's block policy applies
    assert [(a.actor, a.action, a.subject, a.reason) for a in staff_actions(catalog)] == [
        ("desk-1", "mark_no_show", ref, "not in the hall")
    ]
    at(catalog, 2026, 11, 23, 9, 0)
    assert catalog.booking.sweep().no_shows == 0  # marked once


Step = Callable[[Runtime, str], object]


def _mark(rt: Runtime, ref: str) -> object:
    return rt.booking.mark_no_show(ref, "desk-1", "absent")


def _undo(rt: Runtime, ref: str) -> object:
    return rt.booking.undo_no_show(ref, "desk-1", "mistake")


def _check_in(rt: Runtime, ref: str) -> object:
    return rt.booking.desk_check_in(ref, "desk-1")


def _cancel(rt: Runtime, ref: str) -> object:
    return rt.booking.cancel(ref, by="staff", reason="moved", actor="desk-1")


@pytest.mark.parametrize(
    ("label", "when", "before", "attempt", "code"),
    [
        ("a future slot", (7, 59), [], _mark, "not_started"),
        ("marked twice", (8, 5), [_mark], _mark, "not_active"),
        ("checked in", (8, 5), [_check_in], _mark, "not_active"),
        ("cancelled", (8, 5), [_cancel], _mark, "not_active"),
        ("undo of a confirmed booking", (8, 5), [], _undo, "not_no_show"),
        ("undone twice", (8, 5), [_mark, _undo], _undo, "not_no_show"),
        ("undone twice, after the window", (9, 0), [_mark, _undo], _undo, "not_no_show"),
        ("undo of a check-in", (8, 5), [_check_in], _undo, "not_no_show"),
    ],
)
def test_refusals_change_nothing(
    catalog: Runtime,
    label: str,
    when: tuple[int, int],
    before: list[Step],
    attempt: Step,
    code: str,
) -> None:
    ref = catalog.booking.book(A, card(catalog, 23), "ussd").ref
    at(catalog, 2026, 11, 23, *when)
    for step in before:
        step(catalog, ref)
    seen, audited = last_event_id(catalog), len(staff_actions(catalog))
    with pytest.raises(BookingError) as refused:
        attempt(catalog, ref)
    assert refused.value.code == code, label
    assert events(catalog, seen) == [] and len(staff_actions(catalog)) == audited


def test_an_unknown_reference_is_not_found(catalog: Runtime) -> None:
    for call in (_mark, _undo, lambda rt, ref: rt.booking.resend_voucher(ref, "desk-1")):
        with pytest.raises(BookingError) as refused:
            call(catalog, "NOSUCHREF")
        assert refused.value.code == "not_found"


# --- undoing ----------------------------------------------------------------------------------


def test_undone_in_the_window_the_citizen_checks_in_with_the_same_voucher(
    catalog: Runtime,
) -> None:
    ref = catalog.booking.book(A, card(catalog, 23), "ussd").ref
    tcode = catalog.booking.upcoming(A)[0].tcode
    assert tcode is not None
    at(catalog, 2026, 11, 23, 8, 5)
    catalog.booking.mark_no_show(ref, "desk-1", "absent")
    before = last_event_id(catalog)
    done = catalog.booking.undo_no_show(ref, "desk-2", "was at the pharmacy")
    assert done.status == "confirmed" and done.tcode == tcode
    assert booking(catalog, ref)[0] == "confirmed" and voucher_states(catalog, ref) == ["issued"]
    [undone] = events(catalog, before)
    assert (undone.type, undone.payload["status"], undone.payload["lifted_block"]) == (
        "booking.no_show_undone",
        "confirmed",
        False,
    )
    assert catalog.booking.check_in(tcode, "KNH").queue_number == 1
    assert [(a.actor, a.action) for a in staff_actions(catalog)][-1] == ("desk-2", "undo_no_show")


def test_undone_in_the_window_and_still_absent_the_sweep_marks_it_afresh(
    catalog: Runtime,
) -> None:
    ref = catalog.booking.book(A, card(catalog, 23), "ussd").ref
    at(catalog, 2026, 11, 23, 8, 5)
    catalog.booking.mark_no_show(ref, "desk-1", "absent")
    catalog.booking.undo_no_show(ref, "desk-1", "too early to say")
    at(catalog, 2026, 11, 23, 9, 0)
    assert catalog.booking.sweep().no_shows == 1
    assert booking(catalog, ref)[0] == "no_show"


def test_undone_after_the_window_it_ends_cancelled_by_staff_and_unblocked(
    catalog: Runtime,
) -> None:
    use_rules(catalog, no_show_block=ONE_BLOCKS)
    ref = missed(catalog, 23)
    assert blocked_until(catalog) is not None
    with pytest.raises(Blocked):
        catalog.booking.book(A, card(catalog, 24), "ussd")
    before = last_event_id(catalog)
    done = catalog.booking.undo_no_show(ref, "desk-1", "seen without check-in")
    assert done.status == "cancelled"
    assert booking(catalog, ref) == ("cancelled", "staff", "seen without check-in")
    assert voucher_states(catalog, ref) == ["expired"]  # the day is over either way
    written = events(catalog, before)
    assert [e.type for e in written] == ["booking.no_show_undone", "citizen.unblocked"]
    assert written[0].payload["lifted_block"] is True
    assert blocked_until(catalog) is None
    assert catalog.booking.book(A, card(catalog, 24), "ussd").status == "confirmed"
    deliver(catalog)
    assert [m.template for m in sent_to(catalog, A)][-1] == "voucher"  # no cancellation SMS


def test_the_block_goes_when_the_others_alone_fall_short(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=TWO_BLOCK)
    first = missed(catalog, 23)
    missed(catalog, 24)  # the second strike blocks
    assert blocked_until(catalog) is not None
    catalog.booking.undo_no_show(first, "desk-1", "the clinic ran late")  # the older one
    assert blocked_until(catalog) is None


def test_a_no_show_an_earlier_block_wiped_does_not_lift_a_later_block(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=ONE_BLOCKS)
    first = missed(catalog, 23)
    catalog.booking.unblock(A, "desk-1", "forgiven")
    second = missed(catalog, 24)  # a block of its own
    catalog.booking.undo_no_show(first, "desk-1", "old mistake")
    assert blocked_until(catalog) is not None
    catalog.booking.undo_no_show(second, "desk-1", "this one too")
    assert blocked_until(catalog) is None


def test_a_cancellation_block_stays_when_a_no_show_is_undone(catalog: Runtime) -> None:
    use_rules(catalog, cancel_block=BlockPolicy(count=1, window_days=30, block_days=7))
    ref = missed(catalog, 23)  # one no-show: short of the default three
    later = catalog.booking.book(A, card(catalog, 25), "ussd").ref
    at(catalog, 2026, 11, 23, 10, 0)
    catalog.booking.cancel(later, by="citizen", phone=A)  # blocks at once
    until = blocked_until(catalog)
    before = last_event_id(catalog)
    catalog.booking.undo_no_show(ref, "desk-1", "mistake")
    assert blocked_until(catalog) == until
    assert types_since(catalog, before) == ["booking.no_show_undone"]


# --- the voucher again ------------------------------------------------------------------------


def test_resend_sends_the_same_voucher_sms_again_even_after_stop(catalog: Runtime) -> None:
    ref = catalog.booking.book(A, card(catalog, 24), "ussd").ref
    deliver(catalog)
    catalog.booking.set_reminders(A, enabled=False)  # STOP ends notices, not vouchers
    before = last_event_id(catalog)
    done = catalog.booking.resend_voucher(ref, "desk-1")
    assert (done.ref, done.status) == (ref, "confirmed")
    assert types_since(catalog, before) == ["voucher.resent"]
    deliver(catalog)
    first, again = sent_to(catalog, A, "voucher")
    assert again.body == first.body and done.tcode in again.body
    assert again.status != "refused"
    assert [(a.action, a.subject) for a in staff_actions(catalog)] == [("resend_voucher", ref)]


def test_resend_is_refused_without_a_phone_or_a_live_booking(catalog: Runtime) -> None:
    person = catalog.booking.register_without_phone("Juma Hamisi", "desk-1", birth_year=1950)
    printed = catalog.booking.book_at_desk(person.id, card(catalog, 24), "desk-1").ref
    cancelled = catalog.booking.book(B, card(catalog, 24), "ussd").ref
    catalog.booking.cancel(cancelled, by="staff", reason="moved", actor="desk-1")
    for ref, code in ((printed, "no_phone"), (cancelled, "not_active")):
        with pytest.raises(BookingError) as refused:
            catalog.booking.resend_voucher(ref, "desk-1")
        assert refused.value.code == code


def test_a_resend_the_relay_reaches_after_a_check_in_sends_nothing(catalog: Runtime) -> None:
    ref = catalog.booking.book(A, card(catalog, 23), "ussd").ref
    deliver(catalog)
    catalog.booking.resend_voucher(ref, "desk-1")
    at(catalog, 2026, 11, 23, 7, 30)
    catalog.booking.desk_check_in(ref, "desk-1")
    deliver(catalog)
    assert len(sent_to(catalog, A, "voucher")) == 1


# --- two desks at once (PostgreSQL) -----------------------------------------------------------


@POSTGRES_ONLY
def test_two_desks_marking_and_undoing_one_no_show_write_one_event_each(
    catalog: Runtime,
) -> None:
    use_rules(catalog, no_show_block=ONE_BLOCKS)
    ref = catalog.booking.book(A, card(catalog, 23), "ussd").ref
    at(catalog, 2026, 11, 23, 8, 5)
    before = last_event_id(catalog)
    assert race(2, lambda _: _mark(catalog, ref)) == Counter({"ok": 1, "not_active": 1})
    assert race(2, lambda _: _undo(catalog, ref)) == Counter({"ok": 1, "not_no_show": 1})
    assert Counter(types_since(catalog, before)) == Counter(
        {
            "booking.no_show": 1,
            "citizen.blocked": 1,
            "booking.no_show_undone": 1,
            "citizen.unblocked": 1,
        }
    )
    assert booking(catalog, ref)[0] == "confirmed" and voucher_states(catalog, ref) == ["issued"]
    assert blocked_until(catalog) is None


@POSTGRES_ONLY
def test_a_desk_and_the_sweep_marking_at_once_mark_once(catalog: Runtime) -> None:
    set_capacity(catalog, card(catalog, 23), capacity=10, remote=10)
    phones = [f"+2547000001{i:02d}" for i in range(8)]
    refs = [catalog.booking.book(phone, card(catalog, 23), "ussd").ref for phone in phones]
    at(catalog, 2026, 11, 23, 9, 0)
    before = last_event_id(catalog)

    def attempt(i: int) -> object:
        return catalog.booking.sweep() if i == 0 else _mark(catalog, refs[i - 1])

    outcomes = race(9, attempt)
    assert outcomes["ok"] + outcomes["not_active"] == 9
    marked = [e.subject_id for e in events(catalog, before) if e.type == "booking.no_show"]
    assert sorted(marked) == sorted(refs)  # each once, by the desk or by the sweep
    assert {booking(catalog, r)[0] for r in refs} == {"no_show"}


def test_undone_in_a_session_staff_closed_since_it_ends_cancelled(catalog: Runtime) -> None:
    """A closed session holds no place: the undo never gives back a working voucher there."""
    ref = catalog.booking.book(A, card(catalog, 23), "ussd").ref
    at(catalog, 2026, 11, 23, 8, 5)
    catalog.booking.mark_no_show(ref, "desk-1", "absent")
    catalog.booking.close_session("KNH", "CARD", date(2026, 11, 23), "doctor ill", "admin")
    done = catalog.booking.undo_no_show(ref, "desk-2", "was at the pharmacy")
    assert done.status == "cancelled"
    assert voucher_states(catalog, ref) == ["expired"]


def test_strikes_that_still_suffice_keep_the_block(catalog: Runtime) -> None:
    """Undoing one of three no-shows leaves two: enough for a two-strike block to stand."""
    use_rules(catalog, no_show_block=TWO_BLOCK)
    first = missed(catalog, 23)
    missed(catalog, 24)  # blocks
    catalog.booking.unblock(A, "desk-1", "forgiven")
    missed(catalog, 25)
    missed(catalog, 26)  # blocks again, on these two
    catalog.booking.undo_no_show(first, "desk-1", "old mistake")
    assert blocked_until(catalog) is not None


def test_a_second_resend_within_2_minutes_sends_nothing_more(catalog: Runtime) -> None:
    """A double click or a reloaded page: one SMS; a real second request later: another."""
    ref = catalog.booking.book(A, card(catalog, 24), "ussd").ref
    catalog.booking.resend_voucher(ref, "desk-1")
    with pytest.raises(ResentRecently):
        catalog.booking.resend_voucher(ref, "desk-1")
    clock_of(catalog).advance(minutes=2, seconds=1)
    catalog.booking.resend_voucher(ref, "desk-1")
    deliver(catalog)
    assert len(sent_to(catalog, A, "voucher")) == 3  # the booking's own, and two resends
