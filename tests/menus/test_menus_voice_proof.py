"""A caller id is only a claim: over voice, proof of the phone before a T-code or a cancel.

Calls go through the IVR renderer and `Calls` over the fake core, as a provider drives them;
USSD keeps showing everything (the network vouches for the caller) and keeps voice bookings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from menus.calls import Calls
from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ivr import IvrRenderer
from menus.ports import Choice
from menus.session import Session
from menus.voice import load_voice_catalogues
from tests.menus.conftest import CALLER, DIAL, SHORTCODE, Phone
from tests.menus.fake_port import CODE, TCODE, FakePort

START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
TCODE_GROUPS = ("4 8 2", "9 1 3", "5 5 7 5")
HIV = "HIV Comprehensive Care Clinic"
# The fake core's slot and T-code, as a call says them.
TUESDAY_930 = "Tuesday the twenty-fourth of November at half past nine in the morning"
TCODE_SAID = "Your T-code is 4 8 2, 9 1 3, 5 5 7 5."


@pytest.fixture
def port() -> FakePort:
    departments = {
        "KNH": [Choice("CARD", "Cardiology"), Choice("HIV", HIV)],
        "MBGH": [Choice("OPD", "Outpatients")],
    }
    return FakePort(departments=departments, sensitive=frozenset({"HIV"}))


@pytest.fixture(scope="module")
def renderer(catalogues: dict[str, Catalogue]) -> IvrRenderer:
    return IvrRenderer(load_voice_catalogues(), catalogues)


@pytest.fixture
def calls(port: FakePort, catalogues: dict[str, Catalogue], renderer: IvrRenderer) -> Calls:
    config = EngineConfig(shortcode=SHORTCODE, channel="ivr", proof_wait_seconds=90)
    return Calls(Engine(port, catalogues, config, keypad=renderer), renderer)


class Call:
    """One voice call on the call's own clock (the provider's requests, one per `press`)."""

    def __init__(self, calls: Calls) -> None:
        self.calls, self.session, self.now = calls, Session.new("call-1", CALLER), START
        self.turn = calls.hop(self.session, None, now=self.now)
        self.heard: list[str] = [self.text()]

    def text(self) -> str:
        return " ".join(s.text for s in self.turn.sentences())

    def press(self, key: str | None, after: float = 5) -> str:
        self.now += timedelta(seconds=after)
        self.turn = self.calls.hop(self.session, key, now=self.now)
        self.heard.append(self.text())
        return self.heard[-1]


def booked(port: FakePort, department: str = "HIV", channel: str = "ussd") -> str:
    slot = next(s for s in port.slots.values() if s.department_id == department)
    port.hold(CALLER, "ussd-1", slot.id)
    return port.book(CALLER, slot.id, channel, f"key-{slot.id}").ref


def assert_nothing_secret(said: str) -> None:
    assert HIV not in said and "HIV" not in said
    assert not [group for group in TCODE_GROUPS if group in said], said
    assert TCODE not in said.replace(" ", "").replace(",", "")


def test_the_voice_list_names_date_time_and_hospital_only(calls: Calls, port: FakePort) -> None:
    booked(port)
    said = Call(calls).press("2")
    assert f"For {TUESDAY_930} at Kenyatta National Hospital, press 1." in said
    assert_nothing_secret(said)


def test_details_before_proof_offer_the_two_proofs_and_say_nothing_secret(
    calls: Calls, port: FakePort
) -> None:
    booked(port)
    call = Call(calls)
    call.press("2")
    said = call.press("1")
    assert said.startswith(f"{TUESDAY_930}. Kenyatta National Hospital.")
    assert "we must check this is your phone" in said
    assert "To get a code by SMS to this number, press 1." in said
    assert "To type the booking's T-code instead, press 2." in said
    for key in ("0", "*", "1", "*", "2", "1111111111#", "*"):  # repeat, back, both proofs
        call.press(key)
    for said in call.heard:
        assert_nothing_secret(said)
    assert not [c for c in port.calls if c[0] == "cancel"]


def test_the_sms_code_proves_the_phone_for_the_rest_of_the_call(
    calls: Calls, port: FakePort
) -> None:
    first, second = booked(port), booked(port, "CARD")
    call = Call(calls)
    call.press("2")
    assert "We sent a code by SMS to this number." in call.press("1") + call.press("1")
    assert port.codes_sent == [CALLER]
    said = call.press(CODE + "#")
    assert said.startswith(f"Kenyatta National Hospital. {TUESDAY_930}. Your clinic.")
    assert TCODE_SAID in said and HIV not in said
    call.press("*")  # back to the list: the other booking needs no second code
    said = call.press("2")
    assert "Cardiology." in said and "Your T-code is 4 8 2" in said
    call.press("1")
    assert "Cancel Cardiology on" in call.heard[-1]
    assert "Cancelled." in call.press("1")
    assert ("cancel", (CALLER, second)) in port.calls and first != second


def test_cancelling_a_sensitive_booking_never_names_it(calls: Calls, port: FakePort) -> None:
    ref = booked(port)
    call = Call(calls)
    for key in ("2", "1", "1", CODE, "1"):
        call.press(key)
    assert f"Cancel your clinic on {TUESDAY_930}?" in call.heard[-1]
    said = call.press("1")
    assert f"Cancelled. Your clinic, {TUESDAY_930}." in said and HIV not in said
    assert port.bookings[ref][1].status == "cancelled"


def test_the_tcode_proves_that_booking_only(calls: Calls, port: FakePort) -> None:
    booked(port), booked(port, "CARD")
    call = Call(calls)
    call.press("2")
    call.press("1")
    assert "Type the booking's T-code." in call.press("2")
    said = call.press(TCODE + "#")
    assert TCODE_SAID in said and "To cancel this appointment, press 1." in said
    assert port.codes_sent == []
    call.press("*")
    said = call.press("2")  # the other booking: still to prove
    assert "we must check this is your phone" in said
    assert_nothing_secret(said)


@pytest.mark.parametrize(
    ("proof", "wrong", "ends"),
    [
        ("1", ("1111", "2222", "3333"), "could not check that this is your phone"),
        ("2", ("1234567890", "0987654321", "1111111111"), "could not check"),
    ],
)
def test_three_wrong_answers_end_the_call_politely(
    calls: Calls, port: FakePort, proof: str, wrong: tuple[str, ...], ends: str
) -> None:
    booked(port)
    call = Call(calls)
    call.press("2")
    call.press("1")
    call.press(proof)
    for attempt in wrong[:-1]:
        assert "is not right. Try again." in call.press(attempt + "#")
    said = call.press(wrong[-1] + "#")
    assert ends in said and call.turn.listen is not None  # "press 1 to hear it again"
    assert not call.turn.retry and not call.turn.gave_up
    assert call.press(None).startswith("Thank you for calling.")
    assert call.turn.ended
    for said in call.heard:
        assert_nothing_secret(said)


def test_a_code_of_the_wrong_length_costs_no_try(calls: Calls, port: FakePort) -> None:
    booked(port)
    call = Call(calls)
    for key in ("2", "1", "1"):
        call.press(key)
    assert "That code is not right." in call.press("12#")
    assert not [c for c in port.calls if c[0] == "check_code"]
    # Asking again is the same screen: Back still leads to the booking's details.
    assert "we must check this is your phone" in call.press("*")


def test_a_waiting_call_survives_the_session_store(calls: Calls, port: FakePort) -> None:
    booked(port)
    call = Call(calls)
    for key in ("2", "1", "1"):
        call.press(key)
    stored = Session.from_json(call.session.to_json())
    assert stored.shown is not None and stored.shown.waits == 90
    assert stored.waiting_since == call.now.timestamp()
    old = call.session.to_json().replace(',"waits":90', "").replace(',"waiting_since":', ',"x":')
    assert Session.from_json(old).waiting_since is None  # saved before the fields existed


def test_silence_while_the_code_travels_waits_up_to_the_limit(calls: Calls, port: FakePort) -> None:
    booked(port)
    call = Call(calls)
    for key in ("2", "1", "1"):
        call.press(key)
    assert call.turn.fallback[0].text == "We sent the code. Type it when it arrives."
    for _ in range(5):  # five silences, 15 s each: more than three, and still listening
        said = call.press(None, after=15)
        assert said.startswith("We sent the code. Type it when it arrives.")
        assert call.turn.retry and not call.turn.ended
    assert call.session.misses == 0
    said = call.press(None, after=15)  # 90 s since the code was sent
    assert call.turn.ended and not call.turn.gave_up and call.turn.listen is None
    assert said == "We did not get the code, so we will end this call. Goodbye."


def test_the_code_arriving_within_the_wait_still_counts(calls: Calls, port: FakePort) -> None:
    booked(port)
    call = Call(calls)
    for key in ("2", "1", "1"):
        call.press(key)
    call.press(None, after=40)
    call.press(None, after=40)
    assert "Your T-code is 4 8 2" in call.press(CODE, after=9)


def test_the_provider_said_hint_is_not_repeated_while_waiting(calls: Calls, port: FakePort) -> None:
    booked(port)
    call = Call(calls)
    for key in ("2", "1", "1"):
        call.press(key)
    turn = calls.hop(call.session, None, hinted=True, now=call.now + timedelta(seconds=15))
    assert turn.hint == () and turn.retry


def test_too_many_codes_is_explained_and_leads_back_to_the_list(
    calls: Calls, port: FakePort
) -> None:
    booked(port)
    port.refuse("send_code", "code_limit")
    call = Call(calls)
    call.press("2")
    call.press("1")
    said = call.press("1")
    assert said.startswith("Too many codes sent to this phone. Please try again later.")
    assert "Your appointments." in said and not call.turn.ended


def test_confirm_and_booked_screens_never_name_a_sensitive_department(
    calls: Calls, port: FakePort
) -> None:
    call = Call(calls)
    said = [call.press(k) for k in ("1", "1", "2", "1", "1", "1")]
    assert f"For {HIV}, press 2." in said[1]  # the public catalogue, read as it is
    assert said[-2].startswith("Your clinic. Kenyatta National Hospital.")
    assert said[-1].startswith("Booked! Your clinic. Kenyatta National Hospital.")
    assert TCODE_SAID in said[-1]  # a new booking made in this call


def test_resuming_a_sensitive_hold_over_voice_does_not_name_it(
    calls: Calls, port: FakePort
) -> None:
    slot = next(s for s in port.slots.values() if s.department_id == "HIV")
    port.hold(CALLER, "ussd-1", slot.id)
    said = Call(calls).text()
    assert "You have a place on hold." in said and "your clinic" in said and HIV not in said


# --- USSD: the network vouches for the caller ----------------------------------------------


def test_ussd_shows_a_voice_booking_as_unconfirmed_and_keeps_it(
    make_phone: Callable[[FakePort], Phone], port: FakePort
) -> None:
    ref = booked(port, channel="ivr")
    phone = make_phone(port)
    phone.run(
        [
            (DIAL, [], False),
            ("2", ["1 24 Nov 09:30 " + HIV], False),
            (
                "1",
                ["Booked by phone call - not confirmed yet", HIV, "1 Keep it", "2 Cancel"],
                False,
            ),
            ("1", ["Kept. The booking counts as yours now.", "Your appointments"], False),
            ("1", [HIV, "T-code: 482 913 5575", "1 Cancel"], False),
        ]
    )
    assert ("confirm_claim", (CALLER, ref)) in port.calls
    assert not port.bookings[ref][1].unconfirmed


def test_ussd_shows_everything_without_a_code(
    make_phone: Callable[[FakePort], Phone], port: FakePort
) -> None:
    booked(port)
    phone = make_phone(port)
    phone.run([(DIAL, [], False), ("2", [], False), ("1", [HIV, "T-code: 482 913 5575"], False)])
    assert port.codes_sent == []
