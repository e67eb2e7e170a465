"""Follow-ups through the outbox: the dial-back SMS of a dropped USSD session, the IVR's
"call again", staff cancellations and closed sessions, rebooks and invitations; STOP ends the
notices but not a confirmation the citizen asked for."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from gateway.app import create_app
from gateway.booking.domain import events
from gateway.booking.operations.invitations import Offer
from gateway.messaging.relay import relay_all
from gateway.runtime import Runtime
from tcode.codes import group
from tests.booking.conftest import NAIROBI, at, slot_id
from tests.messaging.conftest import A, B, MakeRuntime
from tests.messaging.sms_phone import deliver, sent_to

TUESDAY_9 = datetime(2026, 11, 24, 9, 0)


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    rt = make_runtime()
    rt.booking.generate_slots(4)
    return rt


def templates(rt: Runtime, phone: str) -> list[str]:
    return [m.template for m in sent_to(rt, phone)]


def test_a_dropped_session_holding_a_slot_gets_one_dial_back_sms(rt: Runtime) -> None:
    client = create_app(runtime=rt).test_client()
    rt.booking.hold(A, "ATUid_1", slot_id(rt, "CARD", TUESDAY_9))
    notice = {
        "sessionId": "ATUid_1",
        "serviceCode": "*384*123#",
        "phoneNumber": A,
        "networkCode": "63902",
        "status": "Incomplete",
        "cost": "KES 0.0000",
        "durationInMillis": "42000",
        "hopsCount": "4",
        "input": "1*1*2",
        "lastAppResponse": "CON Confirm ...",
        "errorMessage": "",
        "date": "2026-11-23 06:00:42",
    }
    for _ in range(2):  # a second drop of the same hold (and AT repeating its notice)
        assert client.post("/hooks/at/ussd/events", data=notice).status_code == 200
    deliver(rt)
    (sms,) = sent_to(rt, A)
    assert sms.template == "dial_back" and sms.status == "sent"
    assert (
        sms.body
        == "Dial *384*123# within 5 min to finish booking Kenyatta Cardiology Tue 24 Nov 09:00"
    )


def test_a_dropped_session_without_a_hold_sends_nothing(rt: Runtime) -> None:
    assert rt.booking.notice_dropped_session(A, "s1") is False
    deliver(rt)
    assert sent_to(rt, A) == []


def test_a_dial_back_for_a_sensitive_department_names_only_the_hospital(rt: Runtime) -> None:
    rt.booking.hold(A, "s1", slot_id(rt, "CCC", datetime(2026, 11, 25, 9, 0)))
    rt.booking.notice_dropped_session(A, "s1")
    deliver(rt)
    (sms,) = sent_to(rt, A)
    assert sms.body == "Dial *384*123# within 5 min to finish booking Kenyatta Wed 25 Nov 09:00"


def test_an_ivr_call_that_gave_up_gets_one_sms_in_its_language(rt: Runtime) -> None:
    rt.booking.notice(events.ivr_gave_up("call-1", phone=A, language="sw"))
    deliver(rt)
    (sms,) = sent_to(rt, A)
    assert sms.template == "ivr_retry" and sms.language == "sw"
    assert sms.body == (
        "Samahani, hatukuweza kumaliza simu yako. Piga +254711082000 tena au piga *384*123# "
        "kuweka miadi"
    )


def test_a_staff_cancellation_tells_the_reason(rt: Runtime) -> None:
    booked = rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    rt.booking.cancel(booked.ref, by="staff", reason="Doctor ill", actor="desk-1")
    deliver(rt)
    assert templates(rt, A) == ["voucher", "cancelled_by_staff"]
    assert "Reason: Doctor ill." in sent_to(rt, A)[-1].body


def test_a_closed_session_tells_every_citizen_once_with_the_reason(rt: Runtime) -> None:
    rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    rt.booking.book(B, slot_id(rt, "CARD", datetime(2026, 11, 24, 10, 0)), "ivr")
    rt.booking.close_session("KNH", "CARD", date(2026, 11, 24), "Doctor ill", "desk-1")
    deliver(rt)
    for phone in (A, B):
        assert templates(rt, phone) == ["voucher", "cancelled_by_staff"]
        assert "Reason: Doctor ill." in sent_to(rt, phone)[-1].body


def test_a_rebook_sends_the_new_t_code_and_link(rt: Runtime) -> None:
    booked = rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    moved = rt.booking.rebook(
        booked.ref, slot_id(rt, "CARD", datetime(2026, 11, 25, 9, 0)), "staff"
    )
    deliver(rt)
    assert templates(rt, A) == ["voucher", "rebooked"]
    body = sent_to(rt, A)[-1].body
    assert body.startswith("Your Kenyatta Cardiology appointment is moved to Wed 25 Nov 09:00.")
    assert group(moved.tcode) in body and f"/v/{moved.voucher_ref}" in body
    assert moved.tcode != booked.tcode


def test_a_rebook_to_another_hospital_sends_one_message(rt: Runtime) -> None:
    booked = rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    mch = slot_id(rt, "DEMO", datetime(2026, 11, 24, 11, 0), hospital="MCH")
    moved = rt.booking.rebook(booked.ref, mch, "citizen", A)
    deliver(rt)
    assert templates(rt, A) == ["voucher", "rebooked"]  # not a "cancelled" as well
    assert "Mbagathi" in sent_to(rt, A)[-1].body and group(moved.tcode) in sent_to(rt, A)[-1].body


def test_invitations_issued_booked_and_expired_are_told(rt: Runtime) -> None:
    window = Offer(window_from=date(2026, 11, 24), window_to=date(2026, 11, 26))
    rt.booking.invite(A, "KNH", "CARD", "dr-x", replace(window, expires=date(2026, 11, 26)))
    rt.booking.invite(B, "KNH", "DERM", "dr-x", Offer(slot_id=slot_id(rt, "DERM", TUESDAY_9)))
    deliver(rt)
    (open_one,) = sent_to(rt, A)
    assert open_one.body == (
        "Kenyatta invites you to book a Cardiology appointment between Tue 24 Nov and Thu 26 Nov. "
        "Dial *384*123# or call +254711082000 before Fri 27 Nov 00:00"
    )
    (booked_one,) = sent_to(rt, B)
    assert booked_one.template == "invited"
    assert booked_one.body.startswith(
        "Kenyatta booked a Dermatology appointment for you on Tue 24 Nov"
    )
    ref = rt.booking.open_invitations(A)[0].ref
    rt.booking.book_invitation(A, ref, slot_id(rt, "CARD", datetime(2026, 11, 25, 9, 0)))
    deliver(rt)
    assert templates(rt, A) == ["invitation_open", "voucher"]

    soon = datetime(2026, 11, 23, 7, 0, tzinfo=NAIROBI)
    rt.booking.invite(B, "KNH", "CARD", "dr-x", replace(window, expires=soon))
    at(rt, 2026, 11, 23, 7, 5)
    rt.booking.sweep()
    deliver(rt)
    assert templates(rt, B) == ["invited", "invitation_open", "invitation_expired"]
    assert sent_to(rt, B)[-1].body == (
        "Your invitation from Kenyatta for Cardiology has expired. To book dial *384*123#"
    )


def test_stop_ends_notices_but_not_the_confirmation_of_a_new_booking(rt: Runtime) -> None:
    rt.booking.set_reminders(A, False)
    booked = rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    rt.booking.hold(A, "s1", slot_id(rt, "DERM", datetime(2026, 11, 25, 9, 0)))
    rt.booking.notice_dropped_session(A, "s1")
    rt.booking.notice(events.ivr_gave_up("call-2", phone=A, language="en"))
    rt.booking.cancel(booked.ref, by="staff", reason="Doctor ill", actor="desk-1")
    deliver(rt)
    assert templates(rt, A) == ["voucher"]


def test_every_event_with_messages_relays_without_errors(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    relay_all(rt)
    assert "could not relay" not in caplog.text
