"""`POST /hooks/twilio/voice` and `/voice/status` turn by turn, as Twilio Voice drives a call.

Rows are (key, fragments the caller hears, call over?); see tests/channels/voice_calls.py.
Every request is signed with the auth token over the public URL, as Twilio signs it.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.booking.models import Booking, Event
from gateway.clock import FixedClock
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets, Settings
from tests.booking.conftest import slot_id
from tests.channels.conftest import DEMO_CATALOG
from tests.channels.voice_calls import (
    BOOKED,
    CALLER,
    DIAL,
    FULL_BOOKING,
    INVALID_KEYS,
    KNH,
    MAIN,
    MONDAY,
    NINE,
    SILENCE,
    SILENT_CALL,
    TO_CONFIRM,
    TWILIO_HOOK,
    TWILIO_STATUS,
    TwilioCall,
    sent_code,
    spoken_tcode,
)

TOKEN = "twilio-auth-token"
PUBLIC = "https://ors.example.org"


def voice_runtime(rt: Runtime, settings: Settings) -> Runtime:
    """A runtime on the same database that checks Twilio signatures against PUBLIC."""
    secured = settings.with_overrides(
        public_base_url=PUBLIC, secrets=Secrets(twilio_auth_token=TOKEN)
    )
    return build_runtime(secured, engine=rt.engine, clock=rt.clock, keys=rt.keys)


@pytest.fixture
def rt(catalog: Runtime, settings: Settings) -> Runtime:
    return voice_runtime(catalog, settings)


@pytest.fixture
def call(rt: Runtime) -> TwilioCall:
    return TwilioCall(create_app(runtime=rt).test_client(), token=TOKEN, base_url=PUBLIC)


def gave_up_events(rt: Runtime) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == "ivr.gave_up")))


def monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute)


# --- the main paths ---------------------------------------------------------------------------


def test_full_booking_reads_the_tcode_digit_by_digit(call: TwilioCall, rt: Runtime) -> None:
    call.run(FULL_BOOKING[:-2])
    [booking] = rt.booking.upcoming(CALLER)
    assert spoken_tcode(call.heard) == booking.tcode
    with rt.reader() as s:
        assert s.scalar(select(Booking.channel).where(Booking.ref == booking.ref)) == "ivr"

    call.run(FULL_BOOKING[-2:])
    call.hang_up()


def test_cancel_from_my_appointments(call: TwilioCall, rt: Runtime) -> None:
    confirmation = rt.booking.book(CALLER, slot_id(rt, "CARD", monday(9)), "sms")

    call.run(
        [
            (DIAL, MAIN, False),
            (
                "2",
                ["Your appointments.", f"For {MONDAY} at {NINE} at {KNH}, press 1."],
                False,
            ),
            ("1", [f"{MONDAY} at {NINE}.", "To get a code by SMS to this number, press 1."], False),
            ("1", ["We sent a code by SMS to this number."], False),
        ]
    )
    call.run(
        [
            (
                sent_code(rt.reader) + "#",
                ["Cardiology.", "Your T-code is ", "To cancel this appointment, press 1."],
                False,
            ),
            ("1", [f"Cancel Cardiology on {MONDAY} at {NINE}?", "To cancel it, press 1."], False),
            ("1", ["Cancelled.", "Press 1 to hear it again."], False),
            (SILENCE, ["Thank you for calling. Goodbye."], True),
        ]
    )

    with rt.reader() as s:
        status = s.scalar(select(Booking.status).where(Booking.ref == confirmation.ref))
    assert status == "cancelled"


# --- silence and wrong keys -------------------------------------------------------------------


def test_silence_three_times_says_goodbye_and_notices_once(call: TwilioCall, rt: Runtime) -> None:
    call.run(SILENT_CALL)
    assert call.root.find("Hangup") is not None
    call.hang_up()  # the status callback after the goodbye

    [event] = gave_up_events(rt)
    assert event.subject_id == call.call_id
    assert event.payload == {"phone": CALLER, "language": "en"}


def test_invalid_keys_reprompt_then_end_the_call(call: TwilioCall, rt: Runtime) -> None:
    call.run(INVALID_KEYS)
    assert len(gave_up_events(rt)) == 1


# --- paging -----------------------------------------------------------------------------------


def test_paging_28_departments_eight_keys_a_page(runtime: Runtime, settings: Settings) -> None:
    runtime.booking.load_catalog(DEMO_CATALOG)
    runtime.booking.generate_slots(15)
    rt = voice_runtime(runtime, settings)
    nairobi = next(c for c in rt.booking.cities() if c.name == "Nairobi")
    knh = next(h for h in rt.booking.hospitals(nairobi.id) if h.name.startswith("Kenyatta"))
    names = [d.name for d in rt.booking.departments(knh.id)]
    call = TwilioCall(create_app(runtime=rt).test_client(), token=TOKEN, base_url=PUBLIC)

    call.dial()
    call.press("1")
    call.press(call.options()["For Nairobi"])
    call.press(call.options()[f"For {knh.name}"])
    pages = [call.options()]
    while "Press 9 for more." in call.heard:
        call.press("9")
        pages.append(call.options())

    assert len(pages) >= 4 and all(len(page) <= 8 for page in pages)
    assert [label for page in pages for label in page] == [f"For {n}" for n in names]
    call.press("*")
    assert call.options() == pages[-2]
    label, key = next(iter(pages[-2].items()))
    call.press(key)  # the first department of that page
    assert "Choose day." in call.heard or "No free days" in call.heard
    assert label == f"For {names[sum(len(page) for page in pages[:-2])]}"


# --- hang-up, holds and resuming --------------------------------------------------------------


@pytest.mark.parametrize("status", ["completed", "busy", "failed", "no-answer", "canceled"])
def test_an_ended_call_loses_its_session_but_keeps_the_hold(
    call: TwilioCall, rt: Runtime, status: str
) -> None:
    call.run(TO_CONFIRM)
    call.hang_up(status)
    assert rt.ivr.sessions.get(call.call_id) is None
    assert rt.booking.current_hold(CALLER) is not None


def test_a_call_back_within_the_hold_resumes(
    call: TwilioCall, rt: Runtime, clock: FixedClock
) -> None:
    call.run(TO_CONFIRM)
    call.hang_up()
    clock.advance(minutes=4)
    call.run(
        [
            (DIAL, ["You have a place on hold.", "To start again, press 2."], False),
            ("1", ["To confirm this appointment, press 1."], False),
            ("1", BOOKED, False),
        ]
    )
    [booking] = rt.booking.upcoming(CALLER)
    assert spoken_tcode(call.heard) == booking.tcode


def test_a_status_callback_for_a_live_call_changes_nothing(call: TwilioCall, rt: Runtime) -> None:
    call.dial()
    call.hang_up("in-progress")
    assert rt.ivr.sessions.get(call.call_id) is not None


def test_an_ended_status_on_the_voice_hook_ends_quietly(call: TwilioCall, rt: Runtime) -> None:
    call.dial()
    params = call.params("completed")
    response = call.client.post(TWILIO_HOOK, data=params, headers=call.sign(TWILIO_HOOK, params))
    assert response.status_code == 200
    assert response.get_data(as_text=True).endswith("<Response/>")
    assert rt.ivr.sessions.get(call.call_id) is None


# --- the TwiML itself -------------------------------------------------------------------------


def test_gather_takes_one_dtmf_key_and_posts_even_on_silence(call: TwilioCall) -> None:
    call.dial()
    assert [el.tag for el in call.root] == ["Gather", "Redirect"]
    gather = call.root.find("Gather")
    assert gather is not None
    assert gather.get("input") == "dtmf" and gather.get("numDigits") == "1"
    assert gather.get("action") == PUBLIC + TWILIO_HOOK
    assert gather.get("actionOnEmptyResult") == "true"
    assert int(gather.get("timeout") or 0) >= 5
    assert [child.tag for child in gather] == ["Say"]


def test_closing_screens_hang_up_after_goodbye(call: TwilioCall) -> None:
    call.run([*TO_CONFIRM, ("1", BOOKED, False)])
    assert [el.tag for el in call.root] == ["Gather", "Say", "Hangup"]


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [TWILIO_HOOK, TWILIO_STATUS])
def test_missing_or_tampered_signatures_are_refused(call: TwilioCall, path: str) -> None:
    call.call_id = "CA" + "1" * 32
    params = call.params("ringing")
    good = call.sign(path, params)
    assert call.client.post(path, data=params).status_code == 403
    tampered = {**params, "From": "+254799999999"}
    assert call.client.post(path, data=tampered, headers=good).status_code == 403
    wrong = {"X-Twilio-Signature": good["X-Twilio-Signature"][::-1]}
    assert call.client.post(path, data=params, headers=wrong).status_code == 403
    assert call.client.post(path, data=params, headers=good).status_code == 200


def test_an_internal_failure_is_a_spoken_apology(
    call: TwilioCall, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    call.dial()

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database gone")

    monkeypatch.setattr(rt.booking, "cities", broken)
    call.press("1")

    assert "Sorry, the service is not available now." in call.heard
    assert call.over and call.root.find("Hangup") is not None
