"""Security review finding 1: a caller id is a claim, not an identity.

A caller who sets a victim's number as caller id (Twilio passes it on as `From`, Africa's
Talking as `callerNumber`) walks "My appointments" to the victim's booking in a sensitive
department. Every request is exactly what the provider sends (Twilio's signed as Twilio signs
them). The caller must hear neither the department nor any digit group of the T-code, and
cannot cancel: that takes the one-time code, which goes by SMS to the real number.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.booking.models import Booking, Event
from gateway.messaging.models import Message
from gateway.messaging.relay import relay_all
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets, Settings
from tests.booking.conftest import slot_id
from tests.channels.voice_calls import (
    DIAL,
    KNH,
    MAIN,
    MONDAY,
    NINE,
    AtCall,
    TwilioCall,
    VoiceCall,
    spoken_tcode,
)
from tests.clocks import clock_of

VICTIM = "+254700000008"
TWILIO_TOKEN, AT_TOKEN = "twilio-auth-token", "at-voice-token"
PUBLIC = "https://ors.example.org"
CLINIC = "HIV Comprehensive Care Clinic"
ASK = "we must check this is your phone"


@pytest.fixture
def rt(catalog: Runtime, settings: Settings) -> Runtime:
    secured = settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=Secrets(twilio_auth_token=TWILIO_TOKEN, at_webhook_token=AT_TOKEN),
    )
    return build_runtime(secured, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)


@pytest.fixture(params=["twilio", "africastalking"])
def spoofer(request: pytest.FixtureRequest, rt: Runtime) -> VoiceCall:
    """A call from anywhere that claims the victim's number."""
    client = create_app(runtime=rt).test_client()
    if request.param == "twilio":
        return TwilioCall(client, number=VICTIM, token=TWILIO_TOKEN, base_url=PUBLIC)
    return AtCall(client, number=VICTIM, token=AT_TOKEN)


@pytest.fixture
def victims_booking(rt: Runtime) -> tuple[str, str]:
    """The victim's booking, made over USSD: HIV clinic, Monday 23 November 09:00."""
    sid = slot_id(rt, "CCC", datetime(2026, 11, 23, 9, 0))
    confirmation = rt.booking.book(VICTIM, sid, "ussd")
    return confirmation.ref, confirmation.tcode


def raw_answer(call: VoiceCall) -> str:
    return ET.tostring(call.root, encoding="unicode")


def assert_tells_nothing(call: VoiceCall, tcode: str) -> None:
    """Neither the department nor any digit group of the T-code, said or written."""
    answer = raw_answer(call)
    for text in (answer, call.heard):
        assert "HIV" not in text and "Comprehensive" not in text, text
        for group in (tcode[:3], tcode[3:6], tcode[6:]):
            assert group not in text and " ".join(group) not in text, (group, text)


def codes_sent(rt: Runtime) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == "phone.code").order_by(Event.id)))


def status_of(rt: Runtime, ref: str) -> str:
    with rt.reader() as s:
        return str(s.scalar(select(Booking.status).where(Booking.ref == ref)))


def test_a_spoofed_caller_learns_nothing_and_cannot_cancel(
    spoofer: VoiceCall, rt: Runtime, victims_booking: tuple[str, str]
) -> None:
    ref, tcode = victims_booking
    spoofer.run([(DIAL, MAIN, False)])
    spoofer.run([("2", [f"For {MONDAY} at {NINE} at {KNH}, press 1."], False)])
    assert_tells_nothing(spoofer, tcode)
    spoofer.run([("1", [f"{MONDAY} at {NINE}.", f"{KNH}.", ASK], False)])
    assert_tells_nothing(spoofer, tcode)

    # A guessed T-code proves nothing.
    spoofer.run([("2", ["Type the booking's T-code."], False)])
    spoofer.run([("1234567897#", ["That T-code is not right. Try again."], False)])
    assert_tells_nothing(spoofer, tcode)
    spoofer.run([("*", [ASK], False)])

    # The code goes by SMS to the real number, ahead of everything else in the outbox.
    spoofer.run([("1", ["We sent a code by SMS to this number."], False)])
    [event] = codes_sent(rt)
    assert event.payload["phone"] == VICTIM
    relay_all(rt)
    with rt.reader() as s:
        [message] = s.scalars(select(Message).where(Message.template == "phone_code"))
    assert message.to_phone == VICTIM

    # Without it, three guesses end the call; the booking stays as it was.
    code = str(event.payload["code"])
    guesses = [g for g in ("0000", "1111", "2222", "3333") if g != code][:3]
    for guess in guesses[:-1]:
        spoofer.run([(guess + "#", ["That code is not right. Try again."], False)])
        assert_tells_nothing(spoofer, tcode)
    spoofer.press(guesses[-1] + "#")
    assert "could not check that this is your phone" in spoofer.heard
    assert_tells_nothing(spoofer, tcode)
    assert status_of(rt, ref) == "confirmed"


def test_the_phones_owner_with_the_sms_code_hears_the_tcode_and_can_cancel(
    spoofer: VoiceCall, rt: Runtime, victims_booking: tuple[str, str]
) -> None:
    ref, tcode = victims_booking
    spoofer.run([(DIAL, MAIN, False), ("2", [], False), ("1", [ASK], False)])
    spoofer.run([("1", ["We sent a code by SMS to this number."], False)])
    [event] = codes_sent(rt)

    spoofer.press(str(event.payload["code"]) + "#")  # what the SMS to the real phone says
    assert f"{KNH}. {MONDAY} at {NINE}. Your clinic." in spoofer.heard
    assert spoken_tcode(spoofer.heard) == tcode and CLINIC not in spoofer.heard
    spoofer.run(
        [
            ("1", [f"Cancel your clinic on {MONDAY} at {NINE}?"], False),
            ("1", ["Cancelled.", f"Your clinic, {MONDAY} at {NINE}."], False),
        ]
    )
    assert CLINIC not in spoofer.heard
    assert status_of(rt, ref) == "cancelled"


def test_the_bookings_own_tcode_also_proves_it(
    spoofer: VoiceCall, rt: Runtime, victims_booking: tuple[str, str]
) -> None:
    _, tcode = victims_booking
    spoofer.run([(DIAL, MAIN, False), ("2", [], False), ("1", [ASK], False), ("2", [], False)])
    spoofer.press(tcode + "#")
    assert spoken_tcode(spoofer.heard) == tcode
    assert "To cancel this appointment, press 1." in spoofer.heard
    assert codes_sent(rt) == []


def test_the_call_waits_for_the_code_then_ends_politely(
    spoofer: VoiceCall, rt: Runtime, victims_booking: tuple[str, str]
) -> None:
    spoofer.run([(DIAL, MAIN, False), ("2", [], False), ("1", [], False), ("1", [], False)])
    wait = rt.settings.voice_proof.wait_seconds
    silences = 0
    while not spoofer.over:
        clock_of(rt).advance(seconds=15)
        spoofer.silence()
        silences += 1
        assert "We sent the code. Type it when it arrives." in spoofer.heard or spoofer.over
    assert silences == wait // 15 and silences > 3  # more than the three misses of a menu
    assert "We did not get the code, so we will end this call. Goodbye." in spoofer.heard
