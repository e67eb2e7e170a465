"""Inbound SMS on both providers: CANCEL tells a stranger nothing (security review #13), and
YES / NDIO / OK keep the sender's voice bookings (unconfirmed claims, README, Security)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gateway.booking.models import Booking
from gateway.booking.service import Confirmation
from gateway.runtime import Runtime
from tcode.codes import check_digit, group
from tests.booking.conftest import at, slot_id
from tests.messaging.conftest import A, B, C
from tests.messaging.sms_phone import Texter, deliver, sent_to

MONDAY_8 = datetime(2026, 11, 23, 8, 0)
TUESDAY_9 = datetime(2026, 11, 24, 9, 0)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0)


def book(
    rt: Runtime, when: datetime, channel: str, phone: str = A, dept: str = "CARD"
) -> Confirmation:
    return rt.booking.book(phone, slot_id(rt, dept, when), channel)


def unconfirmed(rt: Runtime, ref: str) -> bool:
    with rt.reader() as s:
        return bool(s.scalar(select(Booking.unconfirmed).where(Booking.ref == ref)))


# --- CANCEL is no existence oracle ------------------------------------------------------------


def test_a_strangers_code_gets_the_answer_of_an_unknown_code_whatever_its_state(
    texter: Texter,
) -> None:
    rt = texter.rt
    live = book(rt, TUESDAY_9, "ussd")
    cancelled = book(rt, TUESDAY_9, "ussd", dept="DERM")
    rt.booking.cancel(cancelled.ref, by="citizen", reason="sms", phone=A)
    used = book(rt, MONDAY_8, "ussd")
    at(rt, 2026, 11, 23, 7, 45)
    rt.booking.check_in(used.tcode, "KNH")
    unknown = "48291355" + "7"
    unknown += check_digit(unknown)
    codes = {"live": live.tcode, "cancelled": cancelled.tcode, "used": used.tcode}
    answers = {name: texter.send(B, f"CANCEL {code}") for name, code in codes.items()}
    expected = (
        "We found no booking with T-code {} for this phone. Reply STATUS to see your bookings"
    )
    assert answers == {name: expected.format(group(code)) for name, code in codes.items()}
    assert texter.send(B, f"CANCEL {unknown}") == expected.format(group(unknown))
    assert rt.booking.booking(live.ref).status == "confirmed"
    # The owner still hears that their own code is no longer active.
    assert "no longer active" in texter.send(A, f"CANCEL {cancelled.tcode}")


# --- YES keeps voice bookings -----------------------------------------------------------------


def test_yes_keeps_the_senders_voice_booking(texter: Texter) -> None:
    rt = texter.rt
    voice = book(rt, TUESDAY_9, "ivr")
    assert unconfirmed(rt, voice.ref)
    reply = texter.send(A, "Yes")
    assert reply == (
        f"Thank you, kept: Kenyatta Cardiology Tue 24 Nov 09:00 T-code {group(voice.tcode)}. "
        "To cancel one reply CANCEL and its T-code"
    )
    assert not unconfirmed(rt, voice.ref)
    assert texter.send(A, "OK").startswith("You have no booking made by phone call waiting")


def test_ndio_answers_in_swahili(texter: Texter) -> None:
    rt = texter.rt
    voice = book(rt, TUESDAY_9, "ivr")
    reply = texter.send(A, "ndio")
    assert reply.startswith("Asante, imehifadhiwa: Kenyatta Cardiology Jumanne 24 Nov 09:00 T-code")
    assert not unconfirmed(rt, voice.ref)


def test_yes_with_nothing_to_confirm_says_so(texter: Texter) -> None:
    book(texter.rt, TUESDAY_9, "ussd")  # confirmed already: the network vouched for USSD
    assert texter.send(A, "YES") == (
        "You have no booking made by phone call waiting for a reply. Reply STATUS to see your "
        "bookings"
    )


def test_yes_that_would_pass_a_limit_is_refused_and_the_booking_stays_a_claim(
    texter: Texter,
) -> None:
    rt = texter.rt
    voice = book(rt, TUESDAY_9, "ivr")
    book(rt, TUESDAY_10, "ussd")  # the same department that day: allowed, the voice one is a claim
    assert texter.send(A, "YES") == (
        "Sorry, we cannot keep your booking made by phone call: you already have a booking in "
        "that department that day"
    )
    assert unconfirmed(rt, voice.ref)


def test_help_names_yes(texter: Texter) -> None:
    assert "YES keeps a booking made by phone call" in texter.send(A, "HELP")
    assert "NDIO kuhifadhi miadi uliyoweka kwa simu" in texter.send(A, "MSAADA")


# --- what the relay sends about voice bookings (no provider difference) ---------------------


def test_the_voice_bookings_voucher_is_followed_by_the_claim_sms(rt: Runtime) -> None:
    book(rt, TUESDAY_9, "ivr")  # booked Mon 06:00: released 24 h before the slot
    book(rt, TUESDAY_10, "ivr", phone=B)
    deliver(rt)
    assert [m.template for m in sent_to(rt, A)] == ["voucher", "claim"]
    assert sent_to(rt, A, "claim")[0].body == (
        "You booked by phone call. Reply YES to keep it. Without a reply it is released on "
        "Mon 23 Nov 09:00"
    )
    at(rt, 2026, 11, 24, 7, 30)  # booked 90 minutes before its slot: no release before it
    book(rt, TUESDAY_9, "ivr", phone=C, dept="DERM")
    deliver(rt)
    assert sent_to(rt, C, "claim")[-1].body == (
        "You booked by phone call. Reply YES to confirm that the booking is yours"
    )


def test_a_released_voice_booking_is_announced_as_released(rt: Runtime) -> None:
    voice = book(rt, TUESDAY_9, "ivr")
    deliver(rt)
    at(rt, 2026, 11, 23, 9, 1)  # past the release, 24 h before the slot
    rt.booking.sweep()
    assert rt.booking.booking(voice.ref).status == "cancelled"
    deliver(rt)
    (released,) = sent_to(rt, A, "released")
    assert released.body == (
        "Your booking made by phone call for Kenyatta Cardiology Tue 24 Nov 09:00 was released "
        "because nobody confirmed it from this phone. To book again dial *384*123#"
    )
    assert sent_to(rt, A, "cancelled") == []
