"""check_screens: every screen, every language, against the USSD limits."""

from __future__ import annotations

from typing import TypedDict

import pytest

from menus.catalogue import Catalogue
from menus.check import Violation, check_screens
from menus.context import EngineConfig
from menus.engine import Engine
from menus.gsm7 import bad_chars
from menus.screens import FINISHES, VOICE_ONLY, build_flow
from menus.session import Session
from menus.specimen import SpecimenPort, longest_moment
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

    everything = (set(build_flow().screens) | set(FINISHES)) - VOICE_ONLY
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
