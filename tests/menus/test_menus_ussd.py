"""The USSD renderer on its own: numbering, paging, shortening, characters, reading keys."""

from __future__ import annotations

from dataclasses import replace

import pytest

from menus.gsm7 import bad_chars, is_gsm7_basic
from menus.keys import Entry, Invalid, Nav, Pick
from menus.reply import Option, Reply
from menus.ussd import UssdRenderer, option_index, option_number, render_ussd, shorten

RENDERER = UssdRenderer()


def _list(count: int, label: str = "Option") -> Reply:
    options = tuple(Option(f"id{n}", f"{label} {n + 1}") for n in range(count))
    return Reply("list", ("Choose",), options, can_back=True, can_home=True)


def test_numbers_skip_the_reserved_98() -> None:
    assert [option_number(i) for i in (0, 1, 96, 97, 98)] == [1, 2, 97, 99, 100]
    assert [option_index(t) for t in ("1", "97", "99", "100")] == [0, 96, 97, 98]
    assert [option_index(t) for t in ("0", "00", "98", "01", "-1", "1.0", "")] == [None] * 7


def test_render_returns_text_without_prefix_and_the_end_flag() -> None:
    text, end = render_ussd(Reply("help", ("Dial *384*123#",), input_kind="none", end=True))
    assert (text, end) == ("Dial *384*123#", True)
    text, end = render_ussd(_list(2))
    assert text == "Choose\n1 Option 1\n2 Option 2\n0 Back\n00 Home" and end is False
    assert not text.startswith(("CON", "END"))


def test_more_than_a_page_keeps_global_numbers_and_the_navigation() -> None:
    reply = _list(120, "A rather long option label")
    pages = RENDERER.pages(reply)
    assert [i for page in pages for i in page] == list(range(120))
    for n, page in enumerate(pages):
        text = RENDERER.render(replace(reply, page=n))[0]
        assert len(text) <= 160
        assert text.splitlines()[1].startswith(f"{option_number(page.start)} ")
        assert ("98 More" in text) is (n < len(pages) - 1)
    assert "99 A rather long option label 98" in "\n".join(
        RENDERER.render(replace(reply, page=n))[0] for n in range(len(pages))
    )


def test_read_maps_keys_to_meanings() -> None:
    reply = _list(20)
    assert RENDERER.read("3", reply) == Pick("id2")
    assert RENDERER.read("20", reply) == Pick("id19")  # on a later page: still that option
    assert RENDERER.read("21", reply) == Invalid()
    assert RENDERER.read("98", reply) == Nav("more")
    assert RENDERER.read("0", reply) == Nav("back")
    assert RENDERER.read("00", reply) == Nav("home")
    last = replace(reply, page=len(RENDERER.pages(reply)) - 1)
    assert RENDERER.read("98", last) == Invalid()
    top = replace(reply, can_back=False, can_home=False)
    assert RENDERER.read("0", top) == Invalid()
    assert RENDERER.read("0", replace(top, page=1)) == Nav("back")  # a later page can go back
    assert RENDERER.read("00", top) == Invalid()


def test_read_digits_and_closed_screens() -> None:
    digits = Reply("id", ("Enter your ID number",), input_kind="digits", can_back=True)
    assert RENDERER.read("12345678", digits) == Entry("12345678")
    assert RENDERER.read("12a", digits) == Invalid()
    assert RENDERER.read("0", digits) == Nav("back")
    closed = Reply("help", ("Bye",), input_kind="none", end=True)
    assert RENDERER.read("1", closed) == Invalid()


def test_one_over_long_option_still_fits_shortened_at_a_word() -> None:
    label = "Jaramogi Oginga Odinga Teaching and Referral Hospital " * 3
    reply = _list(1, label.strip())
    screen = RENDERER.layout(reply)
    assert screen.natural_length > 160
    assert len(screen.text) <= 160
    option = screen.text.splitlines()[1]
    assert option.startswith("1 Jaramogi") and option.endswith(".")
    assert screen.text.endswith("0 Back\n00 Home")


def test_long_names_give_way_before_the_tcode() -> None:
    name = "Kenyatta National Hospital " * 5
    lines = ("Booked!", "Cardiology", name.strip(), "Tue 24 Nov 09:30", "T-code: 482 913 5575")
    text, _ = render_ussd(Reply("booked", lines, input_kind="none", end=True))
    assert len(text) <= 160 and "T-code: 482 913 5575" in text


def test_error_line_is_shown_on_the_same_page() -> None:
    reply = replace(_list(40), page=1, error=True)
    text = RENDERER.render(reply)[0]
    assert text.startswith("Invalid choice, try again.\n")
    plain = RENDERER.render(replace(reply, error=False))[0]
    assert [line for line in text.splitlines() if line[0].isdigit()] == [
        line for line in plain.splitlines() if line[0].isdigit()
    ]


def test_characters_outside_gsm7_are_replaced_and_reported() -> None:
    reply = Reply("x", ("Hôpital “Général” […] €5 ^ | ~ \\ {x}\fend",), input_kind="none", end=True)
    screen = RENDERER.layout(reply)
    assert set(screen.bad_chars) == set("ô“”[…]€^|~\\{}\f")
    assert not bad_chars(screen.text)
    assert screen.text.startswith("H?pital")


@pytest.mark.parametrize(
    "char", list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà")
)
def test_basic_table_characters_are_allowed(char: str) -> None:
    assert is_gsm7_basic(char)


@pytest.mark.parametrize("char", list("[]{}€^|~\\\f\x1b…“”‘’ç`"))
def test_extension_and_foreign_characters_are_not(char: str) -> None:
    assert not is_gsm7_basic(char)
    assert bad_chars(char) == char


def test_cr_is_basic_but_no_ussd_screen_carries_it() -> None:
    assert is_gsm7_basic("\r")
    assert bad_chars("a\rb") == "\r"


def test_shorten() -> None:
    assert shorten("Kenyatta National Hospital", 30) == "Kenyatta National Hospital"
    assert shorten("Kenyatta National Hospital", 20) == "Kenyatta National."
    assert shorten("Supercalifragilistic", 10) == "Supercali."
    assert len(shorten("a b c d e f g", 5)) <= 5
