"""check_screens: every screen, every language, against the USSD limits."""

from __future__ import annotations

from menus.catalogue import Catalogue
from menus.check import Violation, check_screens
from menus.screens import FINISHES, build_flow
from menus.ussd import UssdRenderer

REALISTIC = {
    "city": "Elgeyo Marakwet",
    "hospital": "Moi Teaching and Referral Hospital",
    "department": "Obstetrics and Gynaecology",
    "shortcode": "*384*123#",
}


def test_realistic_longest_names_fit_every_screen(catalogues: dict[str, Catalogue]) -> None:
    assert check_screens(catalogues, **REALISTIC) == []


def test_an_over_long_name_is_reported_per_screen_and_language(
    catalogues: dict[str, Catalogue],
) -> None:
    names = {**REALISTIC, "hospital": "Jaramogi Oginga Odinga Teaching and Referral Hospital"}

    found = check_screens(catalogues, **names)

    assert {(v.screen, v.language) for v in found} >= {
        ("confirm", "en"),
        ("booked", "en"),
        ("confirm", "sw"),
        ("booked", "sw"),
    }
    assert all(v.length > 160 and not v.bad_chars for v in found)


def test_a_name_outside_gsm7_is_reported(catalogues: dict[str, Catalogue]) -> None:
    found = check_screens(catalogues, **{**REALISTIC, "department": "Cardiología"})

    assert {v.bad_chars for v in found} == {"í"}
    assert {v.language for v in found} == {"en", "sw"}


def test_a_smaller_limit_is_checked(catalogues: dict[str, Catalogue]) -> None:
    found = check_screens(catalogues, **REALISTIC, renderer=UssdRenderer(limit=120))
    assert any(v.screen == "help" for v in found)


def test_every_screen_of_the_flow_is_rendered(catalogues: dict[str, Catalogue]) -> None:
    # With room for one character every rendered page is reported, so the report lists
    # every screen the check reached.
    found = check_screens(catalogues, **REALISTIC, renderer=UssdRenderer(limit=1))

    everything = set(build_flow().screens) | set(FINISHES)
    for language in catalogues:
        assert {v.screen for v in found if v.language == language} == everything


def test_violation_reads_as_one_line() -> None:
    assert str(Violation("confirm", "sw", 0, 213, "")) == "sw confirm page 1: 213 characters"
    assert str(Violation("hospital", "en", 1, 90, "ô")) == "en hospital page 2: 'ô'"
