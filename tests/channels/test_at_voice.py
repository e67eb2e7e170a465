"""`POST /hooks/at/voice` turn by turn, as Africa's Talking Voice drives a call.

Rows are (key, fragments the caller hears, call over?); see tests/channels/voice_calls.py.
The clock stands at Monday 23 November 2026, 06:00 in Nairobi; Cardiology at Kenyatta
National Hospital has two remote places every half hour from 08:00.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from redis import Redis
from sqlalchemy import select

from gateway.app import create_app
from gateway.booking.models import Booking, Event
from gateway.clock import FixedClock
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets, Settings
from tests.booking.conftest import slot_id
from tests.channels.conftest import DEMO_CATALOG, AtPhone
from tests.channels.voice_calls import (
    AT_HOOK,
    BOOKED,
    CALLER,
    DIAL,
    EIGHT,
    FULL_BOOKING,
    GAVE_UP,
    INVALID_KEYS,
    KNH,
    MAIN,
    MONDAY,
    NINE,
    NO_INPUT,
    SILENCE,
    SILENT_CALL,
    TO_CONFIRM,
    AtCall,
    sent_code,
    spoken_tcode,
)

TOKEN = "at-voice-token"
PUBLIC = "https://ors.example.org"


def voice_runtime(rt: Runtime, settings: Settings, **changes: object) -> Runtime:
    """A runtime on the same database whose AT hook needs the token."""
    secured = settings.with_overrides(
        public_base_url=PUBLIC, secrets=Secrets(at_webhook_token=TOKEN), **changes
    )
    return build_runtime(secured, engine=rt.engine, clock=rt.clock, keys=rt.keys)


@pytest.fixture
def rt(catalog: Runtime, settings: Settings) -> Runtime:
    return voice_runtime(catalog, settings)


@pytest.fixture
def call(rt: Runtime) -> AtCall:
    return AtCall(create_app(runtime=rt).test_client(), token=TOKEN)


def monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute)


def returning(rt: Runtime) -> None:
    """Make the caller one who has booked before: no privacy line before the first screen (a
    first-time caller hears it: tests/channels/test_privacy_line.py)."""
    rt.booking.book(CALLER, slot_id(rt, "DERM", monday(9)), "sms")


def gave_up_events(rt: Runtime) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == "ivr.gave_up")))


# --- the main paths ---------------------------------------------------------------------------


def test_full_booking_reads_the_tcode_digit_by_digit(call: AtCall, rt: Runtime) -> None:
    call.run(FULL_BOOKING[:-2])

    [booking] = rt.booking.upcoming(CALLER)
    assert spoken_tcode(call.heard) == booking.tcode  # digit by digit, in its three groups
    with rt.reader() as s:
        assert s.scalar(select(Booking.channel).where(Booking.ref == booking.ref)) == "ivr"
    call.run(FULL_BOOKING[-2:])
    call.hang_up()
    assert rt.booking.current_hold(CALLER) is None


def test_cancel_from_my_appointments(call: AtCall, rt: Runtime) -> None:
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
            ("1", ["We sent a code by SMS to this number.", "hash key"], False),
        ]
    )
    call.run(
        [
            (
                sent_code(rt.reader),
                ["Cardiology.", "Your T-code is ", "To cancel this appointment, press 1.", "star"],
                False,
            ),
            ("1", [f"Cancel Cardiology on {MONDAY} at {NINE}?", "To cancel it, press 1."], False),
            ("1", ["Cancelled.", "Press 1 to hear it again."], False),
            (SILENCE, ["Thank you for calling. Goodbye."], True),
        ]
    )

    assert rt.booking.upcoming(CALLER) == []
    with rt.reader() as s:
        status = s.scalar(select(Booking.status).where(Booking.ref == confirmation.ref))
    assert status == "cancelled"


def test_the_details_screen_reads_the_tcode_after_proof(call: AtCall, rt: Runtime) -> None:
    confirmation = rt.booking.book(CALLER, slot_id(rt, "CARD", monday(9)), "sms")
    call.run([(DIAL, MAIN, False), ("2", [], False), ("1", [], False)])
    assert "T-code is" not in call.heard and "Cardiology" not in call.heard
    call.run([("1", ["We sent a code by SMS to this number."], False)])
    call.run([(sent_code(rt.reader) + "#", ["Your T-code is "], False)])
    assert spoken_tcode(call.heard) == confirmation.tcode


# --- silence and wrong keys -------------------------------------------------------------------


def test_silence_three_times_says_goodbye_and_notices_once(call: AtCall, rt: Runtime) -> None:
    call.dial()
    fallback, redirect = call.fallback(), call.root.find("Redirect")
    assert fallback == NO_INPUT  # AT plays it itself, then comes back
    assert redirect is not None

    call.run(SILENT_CALL[1:])
    call.hang_up()  # AT's final notice after the goodbye

    [event] = gave_up_events(rt)
    assert event.subject_id == call.call_id
    assert event.payload == {"phone": CALLER, "language": "en"}


def test_the_redirect_after_silence_does_not_repeat_the_hint(call: AtCall, rt: Runtime) -> None:
    returning(rt)
    call.dial()
    call.silence()
    # The fallback said the hint; the re-prompt starts with the screen itself.
    assert [el.tag for el in call.root] == ["GetDigits", "Say", "Redirect"]
    prompt = call.root.findtext("GetDigits/Say") or ""
    assert prompt.startswith("Hospital appointments.") and NO_INPUT not in prompt


def test_invalid_keys_reprompt_then_end_the_call(call: AtCall, rt: Runtime) -> None:
    call.run(INVALID_KEYS)
    assert len(gave_up_events(rt)) == 1


def test_a_stale_digit_on_the_silence_redirect_counts_as_silence(call: AtCall) -> None:
    call.dial()
    redirect = call.root.find("Redirect")
    assert redirect is not None
    call.post(_local(redirect.text or ""), call.form(dtmfDigits="1"))  # not "Book"
    assert "Choose city." not in " ".join(el.text or "" for el in call.root.iter("Say"))


def test_a_good_key_after_two_misses_starts_the_count_again(call: AtCall, rt: Runtime) -> None:
    call.run(
        [
            (DIAL, MAIN, False),
            (SILENCE, MAIN, False),
            ("8", MAIN, False),
            ("0", MAIN, False),  # repeat is a good key
            (SILENCE, MAIN, False),
            (SILENCE, MAIN, False),
            (SILENCE, GAVE_UP, True),
        ]
    )
    assert len(gave_up_events(rt)) == 1


# --- paging -----------------------------------------------------------------------------------


def test_paging_28_departments_eight_keys_a_page(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    runtime.booking.load_catalog(DEMO_CATALOG)
    runtime.booking.generate_slots(15)
    rt = voice_runtime(runtime, settings)
    nairobi = next(c for c in rt.booking.cities() if c.name == "Nairobi")
    knh = next(h for h in rt.booking.hospitals(nairobi.id) if h.name.startswith("Kenyatta"))
    names = [d.name for d in rt.booking.departments(knh.id)]
    assert len(names) == 28
    call = AtCall(create_app(runtime=rt).test_client(), token=TOKEN)

    call.dial()
    call.press("1")
    call.press(call.options()["For Nairobi"])
    call.press(call.options()[f"For {knh.name}"])
    pages = [call.options()]
    while "Press 9 for more." in call.heard:
        call.press("9")
        pages.append(call.options())

    assert len(pages) >= 4
    assert all(list(page.values()) == [str(k) for k in range(1, len(page) + 1)] for page in pages)
    assert [label for page in pages for label in page] == [
        f"For {n}" for n in names
    ]  # all, in order, each once
    assert "Press star to go back." in call.heard
    call.press("*")  # back one page
    assert call.options() == pages[-2]
    call.press("0")  # heard again, same page
    assert call.options() == pages[-2]
    call.press("9")
    call.press("9")  # no page after the last one
    assert "Sorry, that key is not on this menu." in call.heard
    assert call.options() == pages[-1]
    call.press("1")
    assert "Choose day." in call.heard or "No free days" in call.heard


# --- hang-up, holds and resuming --------------------------------------------------------------


def test_hang_up_keeps_the_hold_and_a_call_back_resumes(
    call: AtCall, rt: Runtime, clock: FixedClock
) -> None:
    call.run(TO_CONFIRM)
    call.hang_up()
    assert rt.ivr.sessions.get(call.call_id) is None  # the call's session is gone...
    assert rt.booking.current_hold(CALLER) is not None  # ...its held place is not

    clock.advance(minutes=3)
    call.run(
        [
            (
                DIAL,
                [
                    "You have a place on hold.",
                    f"To go on with Cardiology on {MONDAY} at {EIGHT}, press 1.",
                    "To start again, press 2.",
                ],
                False,
            ),
            ("1", ["To confirm this appointment, press 1."], False),
            ("1", BOOKED, False),
        ]
    )
    [booking] = rt.booking.upcoming(CALLER)
    assert spoken_tcode(call.heard) == booking.tcode


def test_hang_up_then_dial_ussd_resumes_the_same_hold(
    call: AtCall, rt: Runtime, clock: FixedClock
) -> None:
    call.run(TO_CONFIRM)
    call.hang_up()
    clock.advance(minutes=2)
    phone = AtPhone(call.client, query=f"?token={TOKEN}")
    phone.run([(None, ["You have a place on hold.", "1 Continue"], False)])
    phone.run([("1", ["1 Confirm"], False), ("1", ["Booked!"], True)])


def test_after_the_hold_time_a_call_starts_at_the_main_menu(
    call: AtCall, rt: Runtime, clock: FixedClock
) -> None:
    call.run(TO_CONFIRM)
    call.hang_up()
    clock.advance(minutes=5, seconds=1)
    call.run([(DIAL, MAIN, False)])
    assert "on hold" not in call.heard


def test_the_final_notice_ends_with_an_empty_response(call: AtCall, rt: Runtime) -> None:
    call.dial()
    response = call.client.post(
        f"{AT_HOOK}?token={TOKEN}", data=call.form(isActive="0", hangupCause="NORMAL_CLEARING")
    )
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    assert rt.ivr.sessions.get(call.call_id) is None


# --- the XML itself ---------------------------------------------------------------------------


def test_getdigits_listens_for_one_key_and_calls_back_with_the_token(call: AtCall) -> None:
    call.dial()
    children = [el.tag for el in call.root]
    assert children == ["GetDigits", "Say", "Redirect"]
    [getdigits] = call.root.findall("GetDigits")
    assert list(getdigits.attrib) == ["numDigits", "timeout", "finishOnKey", "callbackUrl"]
    assert getdigits.get("numDigits") == "1" and getdigits.get("finishOnKey") == "#"
    assert int(getdigits.get("timeout") or 0) >= 5
    callback = urlsplit(getdigits.get("callbackUrl") or "")
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == PUBLIC + AT_HOOK
    assert parse_qs(callback.query) == {"token": [TOKEN]}
    redirect = urlsplit(call.root.findtext("Redirect") or "")
    assert parse_qs(redirect.query) == {"token": [TOKEN], "after": ["silence"]}


def test_the_webhook_token_is_required(call: AtCall) -> None:
    call.call_id = "ATVId_x"
    assert call.client.post(AT_HOOK, data=call.form()).status_code == 403
    assert call.client.post(f"{AT_HOOK}?token=wrong", data=call.form()).status_code == 403


def test_without_recordings_each_getdigits_says_its_prompt_in_one_say(
    call: AtCall, rt: Runtime
) -> None:
    # Calls played from joined recordings: tests/channels/test_voice_recordings.py.
    assert rt.settings.ivr_recordings is None
    returning(rt)

    def prompt() -> str:
        assert call.root.find(".//Play") is None
        [getdigits] = call.root.findall("GetDigits")
        [say] = list(getdigits)
        assert say.tag == "Say"
        return say.text or ""

    call.dial()
    assert prompt() == " ".join(MAIN)
    call.press("1")
    assert prompt().startswith("Choose city. For London, press 1. For Nairobi, press 2.")
    assert prompt().endswith("Press star to go back. Press 0 to hear this again.")


def test_swahili_callers_hear_swahili(call: AtCall, rt: Runtime) -> None:
    rt.booking.set_language(CALLER, "sw")
    call.run(
        [
            (DIAL, ["Miadi ya hospitali.", "Kuweka miadi, bonyeza 1.", "Bonyeza 0"], False),
            (SILENCE, ["Samahani, hatukusikia kitufe chochote."], False),
            ("1", ["Chagua mji.", "Bonyeza nyota kurudi."], False),
        ]
    )


def test_an_internal_failure_is_a_spoken_apology(
    call: AtCall, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    call.dial()

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database gone")

    monkeypatch.setattr(rt.booking, "cities", broken)
    call.press("1")

    assert "Sorry, the service is not available now." in call.heard
    assert call.over
    assert rt.ivr.sessions.get(call.call_id) is None


def test_digits_with_the_finishing_key_still_pick(call: AtCall) -> None:
    call.dial()
    call.press("1#")  # AT may pass the finishing key on
    assert "Choose city." in call.heard


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- production mode: sessions in Redis -------------------------------------------------------


def test_call_sessions_live_in_redis_under_their_own_prefix(
    settings: Settings, catalog: Runtime, redis_client: Redis
) -> None:
    secured = settings.with_overrides(
        public_base_url=PUBLIC, secrets=Secrets(at_webhook_token=TOKEN)
    )
    rt = build_runtime(
        secured, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys, redis=redis_client
    )
    call = AtCall(create_app(runtime=rt).test_client(), token=TOKEN)

    call.run(TO_CONFIRM)
    key = f"ors:ivr:session:{call.call_id}"
    assert redis_client.get(key) is not None
    assert 0 < redis_client.ttl(key) <= secured.ussd_session_ttl
    assert redis_client.get(f"ors:menus:session:{call.call_id}") is None  # not USSD's

    call.hang_up()
    assert redis_client.get(key) is None
    call.run([(DIAL, ["You have a place on hold."], False), ("1", [], False), ("1", BOOKED, False)])
    [booking] = rt.booking.upcoming(CALLER)
    assert spoken_tcode(call.heard) == booking.tcode
