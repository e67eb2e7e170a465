"""Invalid input, Back, Home and paging through long lists."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from menus.ports import Choice
from tests.menus.conftest import DIAL, Phone
from tests.menus.fake_port import FakePort

DEPARTMENTS = [
    "Cardiology", "Dermatology", "Ear, Nose and Throat", "Endocrinology", "Gastroenterology",
    "General Surgery", "Haematology", "Infectious Diseases", "Internal Medicine", "Maternity",
    "Nephrology", "Neurology", "Neurosurgery", "Obstetrics and Gynaecology", "Oncology",
    "Ophthalmology", "Orthopaedics", "Paediatrics", "Physiotherapy", "Plastic Surgery",
    "Psychiatry", "Radiology", "Rheumatology", "Urology", "Dental Clinic", "Diabetes Clinic",
]  # fmt: skip
OPTION = re.compile(r"^(\d+) (.+)$")


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("9", "no such option"),
        ("", "nothing typed"),
        ("abc", "not a number"),
        ("0", "no Back on the main menu"),
        ("00", "no Home on the main menu"),
        ("98", "no further page"),
        ("1*2", "a literal star"),
        ("01", "not how the number is written"),
        ("\u0661", "an Arabic-Indic one"),
    ],
)
def test_invalid_input_repeats_the_screen_with_an_error(phone: Phone, typed: str, why: str) -> None:
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            (typed, ["Invalid choice, try again.", "Hospital appointments", "1 Book"], False),
            ("4", ["Dial *384*123#"], True),  # the session stayed open and works
        ]
    )


def test_error_line_goes_away_after_valid_input(phone: Phone) -> None:
    screen = phone.run([(DIAL, [], False), ("7", ["Invalid"], False), ("1", [], False)])
    assert "Invalid" not in screen.text


def test_surrounding_spaces_are_ignored(phone: Phone) -> None:
    phone.run([(DIAL, [], False), (" 1 ", ["Choose hospital"], False)])


def test_back_walks_the_path_and_home_returns_to_main(phone: Phone, port: FakePort) -> None:
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", ["Choose hospital"], False),
            ("1", ["Choose department"], False),
            ("2", ["Choose day"], False),
            ("1", ["choose time"], False),
            ("1", ["1 Confirm", "Ear, Nose and Throat"], False),
            ("0", ["Tue 24 Nov: choose time"], False),  # Back has no side effect...
            ("0", ["Choose day"], False),
            ("0", ["Choose department"], False),
            ("00", ["Hospital appointments", "1 Book"], False),
            ("0", ["Invalid choice"], False),  # nothing behind the main menu
        ]
    )
    assert "+254700000001" in port.holds  # ...and Home neither: the hold runs its course


def test_end_screen_has_no_navigation(phone: Phone) -> None:
    screen = phone.run([(DIAL, [], False), ("4", [], True)])
    assert "0 Back" not in screen.text and "00 Home" not in screen.text


@pytest.fixture
def many(make_phone: Callable[[FakePort], Phone]) -> Phone:
    """A phone on the department list of a hospital with 26 departments."""
    departments = [Choice(f"D{i:02d}", name) for i, name in enumerate(DEPARTMENTS)]
    phone = make_phone(FakePort(departments={"KNH": departments}))
    phone.run([(DIAL, [], False), ("1", ["Choose hospital"], False)])
    return phone


def _options(text: str) -> list[tuple[int, str]]:
    found = [OPTION.match(line) for line in text.splitlines()]
    return [(int(m[1]), m[2]) for m in found if m and m[1] not in ("0", "00", "98")]


def test_paging_26_departments_numbers_globally_and_never_splits_a_label(many: Phone) -> None:
    phone = many
    pages = [phone.press("1").text]
    while "98 More" in pages[-1]:
        pages.append(phone.press("98").text)

    assert len(pages) >= 3
    shown = [option for page in pages for option in _options(page)]
    assert shown == [(n + 1, name) for n, name in enumerate(DEPARTMENTS)]
    for page in pages:
        assert page.startswith("Choose department\n")
        assert len(page) <= 160
        assert "0 Back" in page and "00 Home" in page
    assert all("98 More" in page for page in pages[:-1])


def test_paging_back_error_and_picking_from_a_later_page(many: Phone) -> None:
    phone = many
    first = phone.press("1").text
    second = phone.press("98").text
    first_on_second = _options(second)[0][0]
    assert first_on_second == _options(first)[-1][0] + 1

    assert phone.press("0").text == first  # Back on page 2 is page 1
    assert phone.press("98").text == second
    with_error = phone.press("x").text
    assert with_error.startswith("Invalid choice, try again.\n")
    assert _options(with_error) == _options(second)  # an error never moves the page breaks

    phone.press(str(first_on_second))
    port = phone.engine.port
    assert isinstance(port, FakePort)
    assert port.calls[-1] == ("open_days", (f"D{first_on_second - 1:02d}",))


def test_last_page_refuses_more(many: Phone) -> None:
    phone = many
    text = phone.press("1").text
    while "98 More" in text:
        text = phone.press("98").text
    assert "Invalid choice" in phone.press("98").text
