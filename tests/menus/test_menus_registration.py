"""Real-name registration screens over the fake core: what is asked, on which channel, when.

USSD asks for what the core says a person lacks, then holds the chosen time. Voice never asks
for a name (a keypad cannot type one: the caller is told where to register) and stores an ID
only once the SMS code has proven the phone (a caller id can be forged).
"""

from __future__ import annotations

import pytest

from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from tests.menus.conftest import CALLER, SHORTCODE, Phone
from tests.menus.fake_port import CODE, FakePort

# Book > KNH > Cardiology > Tue 24 Nov > 09:30 (one city: skipped).
TO_TIME = ("1", "1", "1", "1", "1")


@pytest.fixture
def voice(port: FakePort, catalogues: dict[str, Catalogue]) -> Phone:
    """A voice call's screens, read with the USSD keys: the choices are the same."""
    return Phone(Engine(port, catalogues, EngineConfig(shortcode=SHORTCODE, channel="ivr")))


def _to_time(phone: Phone) -> None:
    phone.dial()
    for typed in TO_TIME[:-1]:
        phone.press(typed)


def _registered(port: FakePort) -> list[str]:
    return [method for method, _ in port.calls if method == "register_person"]


def test_ussd_asks_the_name_then_the_id_and_holds_the_time(phone: Phone, port: FakePort) -> None:
    port.lacking[(CALLER, None)] = ["name", "national_id"]
    _to_time(phone)
    assert phone.press("1").reply.screen == "register_name"
    port.refuse("register_person", "invalid_registration", field="name")
    wrong = phone.press("1234")
    assert (wrong.reply.screen, wrong.text.splitlines()[0]) == (
        "register_name",
        "Type your full name as on your ID, in letters.",
    )
    assert phone.press("Achieng Otieno").reply.screen == "register_id"
    port.refuse("register_person", "invalid_registration", field="national_id")
    assert phone.press("1").text.startswith("That ID number is not valid. Try again.")
    confirm = phone.press("23456789")
    assert confirm.reply.screen == "confirm" and CALLER in port.holds


@pytest.mark.parametrize(
    ("low", "high", "said"),
    [
        (7, 8, "An ID number has 7 to 8 digits. Try again."),
        (20, 20, "An ID number has 20 digits. Try again."),
    ],
)
def test_an_id_of_the_wrong_form_says_the_digits_expected(
    phone: Phone, port: FakePort, low: int, high: int, said: str
) -> None:
    port.lacking[(CALLER, None)] = ["national_id"]
    _to_time(phone)
    phone.press("1")
    port.refuse(
        "register_person", "invalid_registration", field="national_id", min_digits=low,
        max_digits=high,
    )  # fmt: skip
    screen = phone.press("12")
    assert (screen.reply.screen, screen.text.splitlines()[0]) == ("register_id", said)


def test_voice_without_a_name_is_told_where_to_register(voice: Phone, port: FakePort) -> None:
    port.lacking[(CALLER, None)] = ["name", "national_id"]
    _to_time(voice)
    told = voice.press("1")
    assert told.end and told.reply.screen == "register_desk"
    assert "dial *384*123# on this phone, or ask at the hospital desk" in told.text
    assert port.codes_sent == [] and _registered(port) == []


def test_voice_keys_the_id_only_after_the_sms_code(voice: Phone, port: FakePort) -> None:
    port.lacking[(CALLER, None)] = ["national_id"]
    _to_time(voice)
    assert voice.press("1").reply.screen == "code"
    assert port.codes_sent == [CALLER] and _registered(port) == []
    assert voice.press(CODE).reply.screen == "register_id"
    confirm = voice.press("23456789")
    assert confirm.reply.screen == "confirm" and _registered(port) == ["register_person"]


def test_a_registered_person_goes_straight_to_confirm(phone: Phone, port: FakePort) -> None:
    _to_time(phone)
    assert phone.press("1").reply.screen == "confirm"
    assert "registration_needs" not in [method for method, _ in port.calls]
