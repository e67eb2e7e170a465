"""check_screens: every screen, every language, against the USSD limits."""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

import pytest

from menus.catalogue import Catalogue
from menus.check import Violation, check_screens
from menus.context import EngineConfig
from menus.engine import Engine
from menus.gsm7 import bad_chars
from menus.ports import Refused
from menus.refusals import refusal_line
from menus.screens import FINISHES, PASSING, VOICE_ONLY, build_flow
from menus.session import Session
from menus.specimen import SpecimenPort, longest_moment, longest_person
from menus.ussd import UssdRenderer


class Names(TypedDict):
    """The names check_screens fills the screens with."""

    city: str
    hospital: str
    department: str
    shortcode: str


REALISTIC: Names = {
    "city": "Elgeyo Marakwet",
    "hospital": "Moi Teaching and Referral Hospital",
    "department": "Obstetrics and Gynaecology",
    "shortcode": "*384*123#",
}


# The longest names of the demo catalogue (gateway/demo/catalog.yaml).
DEMO_LONGEST: Names = {
    **REALISTIC,
    "hospital": "Jaramogi Oginga Odinga Teaching and Referral Hospital",
    "department": "Chest Clinic (Respiratory Medicine)",
}
OVER_LONG_HOSPITAL = (
    "Jaramogi Oginga Odinga Teaching, Referral and Research Hospital of Kisumu County"
)


def test_realistic_longest_names_fit_every_screen(catalogues: dict[str, Catalogue]) -> None:
    assert check_screens(catalogues, **REALISTIC) == []


def test_the_demo_catalogues_longest_names_fit_every_screen(
    catalogues: dict[str, Catalogue],
) -> None:
    # natural_length is measured before any shortening, so this means nothing was cut.
    assert len(DEMO_LONGEST["hospital"]) == 53 and len(DEMO_LONGEST["department"]) == 35
    assert check_screens(catalogues, **DEMO_LONGEST) == []


def test_an_over_long_name_is_reported_per_screen_and_language(
    catalogues: dict[str, Catalogue],
) -> None:
    assert len(OVER_LONG_HOSPITAL) == 80
    names: Names = {**DEMO_LONGEST, "hospital": OVER_LONG_HOSPITAL}

    found = check_screens(catalogues, **names)

    assert {(v.screen, v.language) for v in found} >= {
        ("confirm", "en"),
        ("booked", "en"),
        ("appointment", "en"),
        ("confirm", "sw"),
        ("booked", "sw"),
        ("appointment", "sw"),
    }
    assert all(v.length > 160 and not v.bad_chars for v in found)


def test_a_name_outside_gsm7_is_reported(catalogues: dict[str, Catalogue]) -> None:
    names: Names = {**REALISTIC, "department": "Cardiología"}
    found = check_screens(catalogues, **names)

    assert {v.bad_chars for v in found} == {"í"}
    assert {v.language for v in found} == {"en", "sw"}


def test_a_smaller_limit_is_checked(catalogues: dict[str, Catalogue]) -> None:
    found = check_screens(catalogues, **REALISTIC, renderer=UssdRenderer(limit=120))
    assert any(v.screen == "help" for v in found)


def test_every_screen_of_the_flow_is_rendered(catalogues: dict[str, Catalogue]) -> None:
    # With room for one character every rendered page is reported, so the report lists
    # every screen the check reached: every screen a USSD caller can see.
    found = check_screens(catalogues, **REALISTIC, renderer=UssdRenderer(limit=1))

    everything = (set(build_flow().screens) | set(FINISHES)) - VOICE_ONLY - PASSING
    for language in catalogues:
        assert {v.screen for v in found if v.language == language} == everything


def test_violation_reads_as_one_line() -> None:
    assert str(Violation("confirm", "sw", 0, 213, "")) == "sw confirm page 1: 213 characters"
    assert str(Violation("hospital", "en", 1, 90, "ô")) == "en hospital page 2: 'ô'"


@pytest.mark.parametrize("language", ["en", "sw"])
@pytest.mark.parametrize("length", [53, 80, 200])
def test_the_booked_screen_always_keeps_the_whole_grouped_tcode(
    catalogues: dict[str, Catalogue], language: str, length: int
) -> None:
    hospital = ("Jaramogi Oginga Odinga Teaching and Referral Hospital " * 4)[:length].strip()
    cat = catalogues[language]
    port = SpecimenPort("Elgeyo Marakwet", hospital, hospital, language, longest_moment(cat))
    engine = Engine(port, catalogues, EngineConfig("*384*123#", default_language=language))
    session = Session.new("tcode", "+254700000001")
    engine.step(session, None)
    for typed in ("1",) * 7:  # main > city > hospital > department > day > slot > confirm
        reply = engine.step(session, typed)

    text, end = UssdRenderer().render(reply)

    assert reply.screen == "booked" and end
    assert cat.text("booked.tcode", tcode="482 913 5575") in text.splitlines()
    assert len(text) <= 160 and not bad_chars(text)


# --- the persons of a phone -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "sw"])
def test_a_dependants_booked_screen_names_them_and_keeps_the_tcode(
    catalogues: dict[str, Catalogue], language: str
) -> None:
    person = longest_person()
    assert len(person) == 20  # the core's default name_max_length
    cat = catalogues[language]
    port = SpecimenPort(
        DEMO_LONGEST["city"],
        DEMO_LONGEST["hospital"],
        DEMO_LONGEST["department"],
        language,
        longest_moment(cat),
        dependants=5,
        person=person,
    )
    engine = Engine(port, catalogues, EngineConfig("*384*123#", default_language=language))
    session = Session.new("family", "+254700000001")
    engine.step(session, None)
    replies = [engine.step(session, typed) for typed in ("1", "2", *("1",) * 6)]

    confirm, booked = replies[-2:]
    assert (confirm.screen, booked.screen) == ("confirm", "booked")
    for reply in (confirm, booked):
        text = UssdRenderer().layout(reply)
        assert person in text.text and text.natural_length <= 160
    assert cat.text("booked.tcode", tcode="482 913 5575") in booked.prompt


@pytest.mark.parametrize(
    ("length", "dependants", "too_long"),
    [
        (20, 5, set()),
        (20, 9, set()),  # more dependants only page the question further
        # A name longer than the core allows does not fit, nor does its block above the question,
        # nor an invitation of theirs (listed and confirmed with the name).
        (40, 5, {"confirm", "booked", "person", "appointments", "invitation_confirm"}),
    ],
)
def test_the_check_renders_the_persons_screens_with_the_names_it_is_given(
    catalogues: dict[str, Catalogue], length: int, dependants: int, too_long: set[str]
) -> None:
    found = check_screens(
        catalogues, **DEMO_LONGEST, person=longest_person(length), dependants=dependants
    )

    assert {v.screen for v in found} == too_long
    if too_long:
        assert {v.language for v in found} == {"en", "sw"}


# book > the first dependant > city > hospital > department > day > a time (the hold)
_TO_HOLD_FOR = ("1", "2", "1", "1", "1", "1", "1")
_TO_ADD = ("5", "2", "Amina")  # my family > add someone > the name


@pytest.mark.parametrize("language", ["en", "sw"])
@pytest.mark.parametrize(
    ("stage", "typed", "code", "facts"),
    [
        ("hold", _TO_HOLD_FOR, "department_same_day", {"person": longest_person()}),
        ("book", (*_TO_HOLD_FOR, "1"), "limit_per_day", {"limit": 2, "person": longest_person()}),
        ("hold", _TO_HOLD_FOR, "blocked", {"until": date(2026, 12, 23), "person": "Amina"}),
        ("hold", _TO_HOLD_FOR, "limit_per_phone", {"limit": 6}),
        ("add_person", _TO_ADD, "person_limit", {"limit": 5}),
        ("add_person", _TO_ADD, "invalid_name", {"max_length": 20}),
    ],
)
def test_the_persons_refusals_fit_and_name_whom_they_are_about(
    catalogues: dict[str, Catalogue],
    language: str,
    stage: str,
    typed: tuple[str, ...],
    code: str,
    facts: dict[str, Any],
) -> None:
    cat = catalogues[language]
    port = SpecimenPort(
        DEMO_LONGEST["city"],
        DEMO_LONGEST["hospital"],
        DEMO_LONGEST["department"],
        language,
        longest_moment(cat),
        dependants=0 if stage == "add_person" else 5,
        refuse_at=stage,
        refusal=Refused(code, **facts),
    )
    engine = Engine(port, catalogues, EngineConfig("*384*123#", default_language=language))
    session = Session.new("refused", "+254700000001")
    engine.step(session, None)
    reply = [engine.step(session, key) for key in typed][-1]

    line = refusal_line(cat, Refused(code, **facts), date(2026, 12, 23))
    assert reply.prompt[0] == line and not reply.end
    assert facts.get("person", "") in line
    screen = UssdRenderer().layout(reply)
    assert screen.natural_length <= 160 and not screen.bad_chars
