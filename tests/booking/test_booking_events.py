"""The table of events by operation matches what the operations really write."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest

from gateway.booking.domain.errors import BookingError
from gateway.booking.domain.events import NewEvent, ivr_gave_up, sms_reply
from gateway.booking.operations.invitations import Offer
from gateway.booking.privacy import erasure
from gateway.booking.sql.events import EVENT_TYPES, EVENTS_BY_OPERATION, record
from gateway.booking.sql.uow import UnitOfWork
from gateway.messaging.reminders import send_due_reminders
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import (
    NAIROBI,
    events,
    last_event_id,
    set_capacity,
    slot_id,
    use_id_hash_key,
    use_rules,
)
from tests.clocks import clock_of

A, B = "+254700000001", "+254700000002"
Run = Callable[[str, Callable[[], object]], None]


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
    clock_of(catalog).advance(minutes=6)
    run("hold", lambda: bk.hold(A, "s3", card_830))  # the old one had expired
    clock_of(catalog).advance(minutes=6)
    run("book", lambda: bk.book(A, card_830, "ussd"))  # its own expired hold: expired + confirmed
    run("hold", lambda: bk.hold(B, "s4", derm))
    run("ussd_dropped", lambda: bk.notice_dropped_session(B, "s4"))
    run("ussd_dropped", lambda: bk.notice_dropped_session(B, "s4"))  # once per hold
    run("ivr_gave_up", lambda: bk.notice(ivr_gave_up("call-1", phone=B)))
    run("sms_reply", lambda: bk.notice(sms_reply("at:1", phone=B, body="Reply")))
    run("phone_code", lambda: bk.send_phone_code(B, "en"))
    clock_of(catalog).advance(minutes=6)
    run("release_expired_holds", bk.release_expired_holds)
    confirmation = bk.book(B, derm, "ivr")
    run("cancel", lambda: bk.cancel(confirmation.ref, by="staff", reason="test"))
    clock_of(catalog).advance(minutes=60)
    tcode = bk.upcoming(A)[0].tcode
    assert tcode is not None
    run("check_in", lambda: bk.check_in(tcode, "KNH"))
    _move_by_sms(catalog, run)
    _booking_core_ii(catalog, run)
    assert seen == EVENTS_BY_OPERATION


def _move_by_sms(rt: Runtime, run: Run) -> None:
    """A dependant moves to her own phone: the code to the new phone, then the move."""
    bk = rt.booking
    guardian, grown = "+254700000193", "+254700000194"
    amina = bk.add_person(guardian, "Amina")
    before = last_event_id(rt)
    run("request_move", lambda: bk.request_person_move(guardian, amina.id, grown))
    code = str(events(rt, before)[-1].payload["code"])
    run("confirm_move", lambda: bk.confirm_person_move(grown, code))


def _booking_core_ii(rt: Runtime, run: Run) -> None:
    """Rebook, invitations, blocks, registration, staff and the sweep (from Mon 07:18)."""
    bk = rt.booking
    use_id_hash_key(rt)
    use_rules(
        rt,
        cancel_block=BlockPolicy(count=1, window_days=30, block_days=7),
        no_show_block=BlockPolicy(count=1, window_days=90, block_days=30),
    )
    C, D, E, F, G, H, P, J, K, L, M, N, Q = (f"+2547000001{i:02d}" for i in range(13))

    def card(day: int, hour: int, minute: int = 0) -> int:
        return slot_id(rt, "CARD", datetime(2026, 11, day, hour, minute))

    def derm(day: int, hour: int) -> int:
        return slot_id(rt, "DERM", datetime(2026, 11, day, hour, 0))

    mch_tue_10 = slot_id(rt, "DEMO", datetime(2026, 11, 24, 10, 0), hospital="MCH")
    ref = bk.book(C, card(24, 8), "ussd").ref
    run("rebook", lambda: bk.rebook(ref, card(24, 8, 30), by="citizen", phone=C))  # rebooked
    bk.hold(C, "c1", mch_tue_10)
    clock_of(rt).advance(minutes=6)  # 07:24, C's hold has expired: expired + cancelled + confirmed
    run("rebook", lambda: bk.rebook(ref, mch_tue_10, by="staff"))

    window = Offer(
        window_from=datetime(2026, 11, 24).date(), window_to=datetime(2026, 11, 27).date()
    )
    run(
        "invite",
        lambda: bk.invite(D, "KNH", "CARD", "dr-x", replace(window, expires=window.window_to)),
    )
    set_capacity(rt, card(25, 8), capacity=1, remote=1)
    bk.hold(E, "e1", card(25, 8))
    bk.hold(D, "d1", card(26, 8))
    clock_of(rt).advance(minutes=6)  # 07:30: the holds of E and D have expired
    run("invite", lambda: bk.invite(F, "KNH", "CARD", "dr-x", Offer(slot_id=card(25, 8))))
    invitation = bk.open_invitations(D)[0].ref
    run("book_invitation", lambda: bk.book_invitation(D, invitation, card(26, 8)))
    other = bk.invite(D, "KNH", "DERM", "dr-x", replace(window, expires=window.window_to)).ref
    run("withdraw_invitation", lambda: bk.withdraw_invitation(other, "dr-x", "not needed"))

    cancelled = bk.book(G, derm(24, 8), "ussd").ref
    run("cancel", lambda: bk.cancel(cancelled, by="citizen", phone=G))  # blocked at once
    run("unblock", lambda: bk.unblock(G, "desk-1", "first time"))
    run("register", lambda: bk.register(H, "Wanjiru Kamau", "12345678"))
    run("reassign_id", lambda: bk.reassign_id(P, "12345678", "desk-1", "new SIM"))
    bk.hold(J, "j1", derm(25, 9))
    bk.book(K, derm(25, 8), "ussd")
    wednesday = datetime(2026, 11, 25).date()
    run("close_session", lambda: bk.close_session("KNH", "DERM", wednesday, "ill", "desk-1"))
    desk = bk.book(L, card(23, 9), "ussd").ref
    run("desk_check_in", lambda: bk.desk_check_in(desk, "desk-1"))
    leaving = "+254700000192"  # a live booking and an open invitation, then erased
    bk.book(leaving, card(26, 9), "ussd")
    bk.invite(leaving, "KNH", "DERM", "dr-x", replace(window, expires=window.window_to))
    run("erase_citizen", lambda: _erase(rt, leaving))

    bk.book(M, card(23, 8, 30), "ussd")  # never comes: a no-show, blocked at once
    caller, owner = "+254700000190", "+254700000191"
    bk.book(caller, card(24, 9), "ivr")  # never confirmed: released a day before (Mon 09:00)
    bk.book(owner, card(24, 9, 30), "ivr")
    run("confirm_claims", lambda: bk.confirm_claims(owner))
    soon = datetime(2026, 11, 23, 8, 36, tzinfo=NAIROBI)
    bk.invite(N, "KNH", "CARD", "dr-x", replace(window, expires=soon))
    bk.hold(Q, "q1", card(24, 10))
    late = bk.book("+254700000196", card(23, 9), "ussd").ref  # the desk's no-show at 09:05
    run("resend_voucher", lambda: bk.resend_voucher(late, "desk-1"))
    clock_of(rt).advance(minutes=95)  # 09:05: expired, no-show, and 10:00 goes back to walk-in
    run("sweep", bk.sweep)
    _desk_no_show(rt, run, late)
    clock_of(rt).advance(minutes=60)  # 10:05: the 24 h reminder of C's Tuesday 10:00 is due
    run("remind", lambda: send_due_reminders(rt))
    use_rules(rt, cancel_block=BlockPolicy(count=2, window_days=30, block_days=7))
    warned = bk.book("+254700000195", card(26, 10), "ussd").ref
    run("cancel", lambda: bk.cancel(warned, by="citizen", phone="+254700000195"))  # one short


def _desk_no_show(rt: Runtime, run: Run, ref: str) -> None:
    """The desk marks a started slot's no-show (one strike blocks here), then undoes it."""
    run("mark_no_show", lambda: rt.booking.mark_no_show(ref, "desk-1", "did not come"))
    run("undo_no_show", lambda: rt.booking.undo_no_show(ref, "desk-1", "was in the ward"))


def _erase(rt: Runtime, phone: str) -> None:
    """`ors citizens erase PHONE --cancel-future`, as the CLI composes it."""
    request = erasure.Request(phone, "asked at the desk", "desk-1", cancel_future=True)
    with UnitOfWork(rt.writer) as uow:
        secrets = rt.booking.settings.secrets
        erasure.erase(uow.session, rt.booking.rules, request, secrets.id_hash_key, rt.clock.now())
        uow.commit()


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
        record(s, NewEvent("booking.teleported", "1", {}), catalog.clock.now())


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
