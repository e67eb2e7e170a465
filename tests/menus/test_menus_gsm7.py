"""The one GSM-7 table against the `gsm0338` codec, so the two can never drift apart."""

from __future__ import annotations

import gsm0338  # noqa: F401  (importing it registers the "gsm03.38" codec)
import pytest

from gateway.gsm7 import to_gsm7
from gateway.messaging.segments import count_segments
from gateway.messaging.texts import TextsError, _check_gsm7
from menus.gsm7 import BASIC, ESC, EXTENSION, SCREEN, SEPTETS, bad_chars, is_gsm7_basic


def codec_septets() -> dict[str, bytes]:
    """Every character the codec can encode, with its encoding."""
    encoded: dict[str, bytes] = {}
    for code in range(0x110000):
        char = chr(code)
        try:
            encoded[char] = char.encode("gsm03.38")
        except UnicodeEncodeError:
            continue
    return encoded


def test_the_tables_hold_exactly_what_the_codec_encodes() -> None:
    encoded = codec_septets()
    one_septet = {c for c, septets in encoded.items() if len(septets) == 1}
    two_septets = {c for c, septets in encoded.items() if len(septets) == 2}
    assert one_septet - {ESC} == BASIC
    assert two_septets == EXTENSION
    assert set(encoded) == one_septet | two_septets


def test_the_basic_table_is_written_in_septet_order() -> None:
    assert SEPTETS.encode("gsm03.38") == bytes(range(128))


def test_cr_is_basic_and_esc_is_not() -> None:
    assert is_gsm7_basic("line\r\nnext")
    assert not is_gsm7_basic(ESC)
    assert not is_gsm7_basic("€")


def test_a_ussd_screen_carries_the_basic_table_but_cr() -> None:
    assert "\r" not in SCREEN
    assert SCREEN | {"\r"} == BASIC
    assert bad_chars("a\rb\x1bc") == "\r\x1b"


@pytest.mark.parametrize("char", [ESC, "€", "[", "\f"])
def test_an_sms_template_refuses_esc_and_the_extension(char: str) -> None:
    with pytest.raises(TextsError, match="outside GSM-7 basic"):
        _check_gsm7(f"Your voucher {char}", "en.yaml: templates.x.text")


def test_esc_and_extension_characters_cost_ucs2_segments() -> None:
    assert count_segments("a" * 160) == 1
    assert count_segments("a" * 159 + "\r") == 1
    assert count_segments("a" * 159 + ESC) == 3


def test_transliteration_drops_esc() -> None:
    assert to_gsm7("Clinic\x1b B") == "Clinic B"
