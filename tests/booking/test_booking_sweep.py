"""The sweep: no-shows, walk-in return, expiries, slots ahead; each row once, on many workers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from gateway.booking.domain.errors import CheckInRefused
from gateway.booking.models import Slot, SweepRun, Voucher
from gateway.booking.operations import sweep as sweep_module
from gateway.booking.operations.invitations import Offer
from gateway.booking.operations.sweep import SweepReport
from gateway.runtime import Runtime
from tests.booking.conftest import (
    NAIROBI,
    POSTGRES_ONLY,
    at,
    count_holds,
    events,
    last_event_id,
    slot_id,
    slot_row,
)
from tests.clocks import clock_of

A, B = "+254700000001", "+254700000002"
MON_0800 = datetime(2026, 11, 23, 8, 0)


def card(rt: Runtime, day: int, hour: int, minute: int = 0) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, minute))


def event_types(rt: Runtime, after: int) -> Counter[str]:
    return Counter(e.type for e in events(rt, after))


@pytest.mark.parametrize(("now", "marked"), [((8, 30, 0), False), ((8, 30, 1), True)])
def test_no_show_after_the_check_in_window_closes(
    catalog: Runtime, now: tuple[int, int, int], marked: bool
) -> None:
    booked = catalog.booking.book(A, card(catalog, 23, 8), "ussd")
    at(catalog, 2026, 11, 23, *now)
    before = last_event_id(catalog)
    report = catalog.booking.sweep()
    assert report.no_shows == int(marked)
    assert catalog.booking.booking(booked.ref).status == ("no_show" if marked else "confirmed")
    if not marked:
        return
    no_show = [e for e in events(catalog, before) if e.type == "booking.no_show"]
    assert [(e.subject_id, e.payload["phone"]) for e in no_show] == [(booked.ref, A)]
    with catalog.reader() as s:
        assert s.scalars(select(Voucher.state).where(Voucher.tcode == booked.tcode)).one() == (
            "expired"
        )
    with pytest.raises(CheckInRefused) as refused:
        catalog.booking.check_in(booked.tcode, "KNH")
    assert refused.value.status == "expired"


def test_checked_in_and_cancelled_bookings_are_no_no_shows(catalog: Runtime) -> None:
    came = catalog.booking.book(A, card(catalog, 23, 8), "ussd")
    gone = catalog.booking.book(B, card(catalog, 23, 8), "ussd")
    catalog.booking.cancel(gone.ref, by="citizen", phone=B)
    at(catalog, 2026, 11, 23, 7, 55)
    catalog.booking.check_in(came.tcode, "KNH")
    at(catalog, 2026, 11, 23, 12, 0)
    assert catalog.booking.sweep().no_shows == 0
    assert catalog.booking.booking(came.ref).status == "checked_in"


def test_unused_remote_places_go_back_to_walk_in_an_hour_before(catalog: Runtime) -> None:
    at(catalog, 2026, 11, 23, 7, 0)
    eight, eight_thirty = card(catalog, 23, 8, 0), card(catalog, 23, 8, 30)
    catalog.booking.book(A, eight, "ussd")  # one of two remote places taken
    catalog.booking.hold(B, "s", eight_thirty)  # 90 minutes away: not yet
    before = last_event_id(catalog)
    catalog.booking.sweep()
    assert (slot_row(catalog, eight).remote_capacity, slot_row(catalog, eight).capacity) == (1, 4)
    assert slot_row(catalog, eight_thirty).remote_capacity == 2
    returned = {
        e.subject_id: e for e in events(catalog, before) if e.type == "slot.walkin_returned"
    }
    assert returned[str(eight)].payload["places"] == 1
    assert returned[str(eight)].payload["starts_at"] == "2026-11-23T08:00:00+03:00"
    assert str(eight_thirty) not in returned
    card_dept = slot_row(catalog, eight).department_id
    free = catalog.booking.free_slots(card_dept, MON_0800.date())
    assert free[0].starts_at == datetime(2026, 11, 23, 8, 30, tzinfo=NAIROBI)
    catalog.booking.sweep()  # again: nothing more to return
    assert event_types(catalog, before)["slot.walkin_returned"] == len(returned)
    at(catalog, 2026, 11, 23, 7, 30)
    catalog.booking.hold(B, "s2", eight_thirty)  # the first hold has expired: a fresh one
    catalog.booking.sweep()
    assert slot_row(catalog, eight_thirty).remote_capacity == 1  # the held place stays remote


def test_expired_holds_are_released(catalog: Runtime) -> None:
    sid = card(catalog, 24, 8)
    catalog.booking.hold(A, "s", sid)
    clock_of(catalog).advance(minutes=6)
    assert catalog.booking.sweep().holds_expired == 1
    assert count_holds(catalog, sid) == 0 == slot_row(catalog, sid).remote_taken


def slots_on(rt: Runtime, day: datetime) -> int:
    with rt.reader() as s:
        return s.scalars(select(func.count()).select_from(Slot).where(Slot.day == day.date())).one()


def test_slots_are_made_ahead_once_per_hospital_day(catalog: Runtime) -> None:
    first_unmade = datetime(2026, 12, 8)  # the catalog fixture made 15 days: up to Mon 7 Dec
    assert slots_on(catalog, first_unmade) == 0
    report = catalog.booking.sweep()
    assert report.slots_created > 0 and slots_on(catalog, first_unmade) > 0
    assert slots_on(catalog, datetime(2026, 12, 9)) == 0  # 16 days: today + horizon + 1
    with catalog.reader() as s:
        runs = {r.name: r.last_run for r in s.scalars(select(SweepRun))}
    assert set(runs) == {"slots:KNH", "slots:MCH", "slots:STH"}
    clock_of(catalog).advance(hours=10)
    assert catalog.booking.sweep().slots_created == 0  # the same hospital-day: not again
    at(catalog, 2026, 11, 24, 0, 1)  # the next day in Nairobi, still Monday in London
    catalog.booking.sweep()
    assert slots_on(catalog, datetime(2026, 12, 9)) > 0
    with catalog.reader() as s:
        again = {r.name: r.last_run for r in s.scalars(select(SweepRun))}
    assert again["slots:STH"] == runs["slots:STH"] and again["slots:KNH"] > runs["slots:KNH"]


def test_a_failing_step_does_not_stop_the_others(
    catalog: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("database restarting")

    steps = tuple((n, broken if n == "no_shows" else f) for n, f in sweep_module.STEPS)
    monkeypatch.setattr(sweep_module, "STEPS", steps)
    catalog.booking.hold(A, "s", card(catalog, 24, 8))
    clock_of(catalog).advance(minutes=6)
    report = catalog.booking.sweep()
    assert report.failed == ["no_shows"] and report.holds_expired == 1


@POSTGRES_ONLY
def test_parallel_sweeps_change_each_row_once(catalog: Runtime) -> None:
    """Four workers sweep at once: every booking, invitation and slot changes exactly once."""
    demo = [
        slot_id(catalog, "DEMO", datetime(2026, 11, 23, 6, 30) + timedelta(minutes=30 * i), "MCH")
        for i in range(6)
    ]
    phones = [f"+2547300{i:05d}" for i in range(36)]
    for i, phone in enumerate(phones):
        catalog.booking.book(phone, demo[i % 6], "ussd")
    window = Offer(
        window_from=datetime(2026, 11, 24).date(),
        window_to=datetime(2026, 11, 26).date(),
        expires=datetime(2026, 11, 23, 8, 0, tzinfo=NAIROBI),
    )
    for phone in phones[:10]:
        catalog.booking.invite(phone, "KNH", "CARD", "dr-x", window)
    at(catalog, 2026, 11, 23, 10, 0)  # every DEMO booking (06:30-09:00) is past its window
    before = last_event_id(catalog)
    reports: list[SweepReport] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        reports.append(catalog.booking.sweep())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.failed for r in reports] == [[]] * 4
    written = events(catalog, before)
    assert Counter(e.type for e in written)["booking.no_show"] == 36
    assert len({e.subject_id for e in written if e.type == "booking.no_show"}) == 36
    assert Counter(e.type for e in written)["invitation.expired"] == 10
    returned = [e.subject_id for e in written if e.type == "slot.walkin_returned"]
    assert len(returned) == len(set(returned)) > 0
    assert sum(r.no_shows for r in reports) == 36
    assert sum(r.invitations_expired for r in reports) == 10
    assert sum(r.walkin_returned for r in reports) == len(returned)
    with catalog.reader() as s:
        assert s.scalar(select(func.count()).select_from(SweepRun)) == 3
    clock_of(catalog).advance(minutes=1)
    assert catalog.booking.sweep() == SweepReport()  # nothing left to do
