"""Telling people early (issue #18 item 5): a blocked caller learns it on "Book", with the
block's last day, before choosing anything; with dependants, the person chosen is refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from menus.calls import Calls, Turn
from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ivr import IvrRenderer
from menus.session import Session
from menus.voice import load_voice_catalogues
from tests.menus.conftest import CALLER, DIAL, SHORTCODE, Phone
from tests.menus.fake_port import FakePort

UNTIL = date(2026, 12, 2)
BOOKING_SCREENS = ("cities", "hospitals", "departments", "open_days", "free_slots", "hold")


def calls_of(port: FakePort, *methods: str) -> list[str]:
    return [name for name, _ in port.calls if name in methods]


@pytest.mark.parametrize(
    ("language", "refusal", "main"),
    [
        ("en", "You cannot book until Wed 2 Dec.", "1 Book"),
        ("sw", "Huwezi kuweka miadi hadi Jumatano 2 Des.", "1 Weka miadi"),
    ],
)
def test_a_blocked_caller_alone_learns_it_on_book(
    phone: Phone, port: FakePort, language: str, refusal: str, main: str
) -> None:
    port.languages[CALLER] = language
    port.block(CALLER, UNTIL)
    screen = phone.run([(DIAL, [main], False), ("1", [refusal, main], False)])
    assert screen.text.splitlines()[0] == refusal  # above the main menu, not after a walk
    assert calls_of(port, "persons", *BOOKING_SCREENS) == []  # nothing read but the caller


@pytest.mark.parametrize(
    ("blocked", "typed", "refusal", "then"),
    [
        # The whole phone: refused before the question, back on the main menu.
        ("phone", "1", "You cannot book until Wed 2 Dec.", "Hospital appointments"),
        # The holder alone: the others may book, so the question is asked again.
        ("H", "1", "You cannot book until Wed 2 Dec.", "Who is the appointment for?"),
        ("P1", "2", "Amina cannot book until Wed 2 Dec.", "Who is the appointment for?"),
    ],
)
def test_with_dependants_the_blocked_person_chosen_is_refused(
    phone: Phone, port: FakePort, blocked: str, typed: str, refusal: str, then: str
) -> None:
    port.add_dependants(CALLER, "Amina", "Baraka")
    if blocked == "phone":
        port.phone_blocked[CALLER] = UNTIL
    else:
        port.block(CALLER, UNTIL, None if blocked == "H" else blocked)
    phone.dial()
    screen = phone.press("1")
    if blocked != "phone":
        assert screen.text.startswith("Who is the appointment for?")
        screen = phone.press(typed)
    assert screen.text.splitlines()[:2] == [refusal, then]
    assert calls_of(port, *BOOKING_SCREENS) == []


def test_another_person_of_the_phone_books_on(phone: Phone, port: FakePort) -> None:
    port.add_dependants(CALLER, "Amina")
    port.block(CALLER, UNTIL)  # "Me" only
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", ["Who is the appointment for?"], False),
            ("1", ["You cannot book until Wed 2 Dec."], False),
            ("2", ["Choose hospital"], False),
        ]
    )


def test_my_family_lets_a_blocked_holder_add_someone_to_book_for(
    phone: Phone, port: FakePort
) -> None:
    port.block(CALLER, UNTIL)
    phone.run(
        [
            (DIAL, ["5 My family"], False),
            ("5", ["1 Me", "2 Add someone"], False),
            ("1", ["You cannot book until Wed 2 Dec.", "2 Add someone"], False),
            ("2", ["first name"], False),
            ("Amina", ["Choose hospital"], False),
            ("00", ["1 Book"], False),
            ("1", ["Who is the appointment for?", "1 Me", "2 Amina"], False),  # no refusal
            ("1", ["You cannot book until Wed 2 Dec."], False),
        ]
    )


def test_a_block_that_ended_refuses_nothing(phone: Phone, port: FakePort) -> None:
    phone.run([(DIAL, ["1 Book"], False), ("1", ["Choose hospital"], False)])


def test_the_block_is_kept_between_hops() -> None:
    session = Session.new("k", CALLER)
    session.blocked_until = UNTIL.isoformat()
    assert Session.from_json(session.to_json()).blocked_until == "2026-12-02"
    assert Session.from_json(Session.new("k", CALLER).to_json()).blocked_until is None


# --- voice says the same ----------------------------------------------------------------------


def said(turns: Sequence[Turn]) -> str:
    return " ".join(s.text for turn in turns for s in turn.sentences())


@pytest.fixture
def voice(port: FakePort, catalogues: dict[str, Catalogue]) -> Calls:
    renderer = IvrRenderer(load_voice_catalogues(), catalogues)
    config = EngineConfig(shortcode=SHORTCODE, channel="ivr")
    return Calls(Engine(port, catalogues, config, keypad=renderer), renderer)


def test_voice_says_the_block_on_book(voice: Calls, port: FakePort) -> None:
    port.block(CALLER, UNTIL)
    session = Session.new("call", CALLER)
    voice.hop(session, None)
    refused = said([voice.hop(session, "1")])
    assert refused.startswith(
        "You cannot book until Wednesday the second of December. Hospital appointments."
    )


def test_voice_names_a_blocked_dependant_by_number(voice: Calls, port: FakePort) -> None:
    port.add_dependants(CALLER, "Amina")
    port.block(CALLER, UNTIL, "P1")
    session = Session.new("call", CALLER)
    voice.hop(session, None)
    voice.hop(session, "1")
    refused = said([voice.hop(session, "2")])
    assert refused.startswith("Person 2 cannot book until ")
    assert "Amina" not in refused
