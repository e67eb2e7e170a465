"""The table of events by operation matches what the operations really write."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

import pytest

from gateway.booking.errors import BookingError
from gateway.booking.events import EVENT_TYPES, EVENTS_BY_OPERATION, record
from gateway.runtime import Runtime
from tests.booking.conftest import events, last_event_id, slot_id

A, B = "+254700000001", "+254700000002"


def test_every_operation_writes_only_its_declared_events(catalog: Runtime) -> None:
    bk = catalog.booking
    card_8, card_830 = (slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, m)) for m in (0, 30))
    derm = slot_id(catalog, "DERM", datetime(2026, 11, 23, 8, 0))
    seen: dict[str, set[str]] = {op: set() for op in EVENTS_BY_OPERATION}

    def run(op: str, call: Callable[[], object]) -> None:
        before = last_event_id(catalog)
        with contextlib.suppress(BookingError):
            call()
        written = [e.type for e in events(catalog, before)]
        assert set(written) <= EVENTS_BY_OPERATION[op], (op, written)
        seen[op].update(written)

    run("hold", lambda: bk.hold(A, "s1", card_8))
    run("hold", lambda: bk.hold(A, "s1", card_830))  # replaces: released + placed
    run("release_hold", lambda: bk.release_hold(A))
    run("hold", lambda: bk.hold(A, "s2", card_8))
    catalog.clock.advance(minutes=6)
    run("hold", lambda: bk.hold(A, "s3", card_830))  # the old one had expired
    catalog.clock.advance(minutes=6)
    run("book", lambda: bk.book(A, card_830, "ussd"))  # its own expired hold: expired + confirmed
    run("hold", lambda: bk.hold(B, "s4", derm))
    run("ussd_dropped", lambda: bk.notice_dropped_session(B, "s4"))
    run("ussd_dropped", lambda: bk.notice_dropped_session(B, "s4"))  # once per hold
    run("ivr_gave_up", lambda: bk.notice("ivr.gave_up", "call-1", phone=B))
    catalog.clock.advance(minutes=6)
    run("release_expired_holds", bk.release_expired_holds)
    confirmation = bk.book(B, derm, "ivr")
    run("cancel", lambda: bk.cancel(confirmation.ref, by="staff", reason="test"))
    catalog.clock.advance(minutes=60)
    run("check_in", lambda: bk.check_in(bk.upcoming(A)[0].tcode, "KNH"))
    assert seen == EVENTS_BY_OPERATION


def test_each_state_change_writes_exactly_one_event(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0))
    before = last_event_id(catalog)
    booked = catalog.booking.book(A, sid, "ussd")
    catalog.booking.cancel(booked.ref, by="citizen", phone=A)
    written = events(catalog, before)
    assert [(e.type, e.subject_id) for e in written] == [
        ("booking.confirmed", booked.ref),
        ("booking.cancelled", booked.ref),
    ]
    assert written[0].payload["channel"] == "ussd" and written[1].payload["by"] == "citizen"


def test_unknown_event_types_are_refused(catalog: Runtime) -> None:
    assert "booking.confirmed" in EVENT_TYPES
    with catalog.writer() as s, pytest.raises(ValueError, match="unknown event type"):
        record(s, "booking.teleported", 1, catalog.clock.now())


def test_dropped_session_notice_is_written_once_per_hold(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0))
    assert catalog.booking.notice_dropped_session(A, "s1") is False  # nothing held
    catalog.booking.hold(A, "s1", sid)
    before = last_event_id(catalog)
    assert catalog.booking.notice_dropped_session(A, "s1") is True
    assert catalog.booking.notice_dropped_session(A, "s1") is False
    written = events(catalog, before)
    assert [e.type for e in written] == ["ussd.dropped"]
    assert written[0].payload["starts_at"] == "2026-11-23T08:00:00+03:00"
    catalog.booking.hold(A, "s2", slot_id(catalog, "CARD", datetime(2026, 11, 23, 9, 0)))
    assert catalog.booking.notice_dropped_session(A, "s2") is True  # a new hold: a new notice


def test_language_is_remembered(catalog: Runtime) -> None:
    assert catalog.booking.language(A) is None
    catalog.booking.set_language(A, "sw")
    assert catalog.booking.language(A) == "sw"
