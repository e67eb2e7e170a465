"""T-code generation, normalisation and the Damm check digit."""

import secrets

import pytest

from tcode.codes import check_digit, generate, group, is_valid, normalize, spoken_groups

SAMPLE_SIZE = 250
DIGITS = "0123456789"


def single_digit_errors(code: str) -> list[str]:
    """List every code that differs from code in exactly one digit."""
    return [
        code[:position] + digit + code[position + 1 :]
        for position in range(len(code))
        for digit in DIGITS
        if digit != code[position]
    ]


def adjacent_swaps(code: str) -> list[str]:
    """List every code made by swapping two different neighbouring digits of code."""
    return [
        code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        for position in range(len(code) - 1)
        if code[position] != code[position + 1]
    ]


def test_generated_codes_are_ten_valid_digits() -> None:
    for _ in range(SAMPLE_SIZE):
        code = generate()
        assert len(code) == 10
        assert code.isascii() and code.isdigit()
        assert is_valid(code)


def test_generate_keeps_leading_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "randbelow", lambda _upper: 42)
    code = generate()
    assert code == "000000042" + check_digit("000000042")
    assert is_valid(code)


def test_damm_rejects_every_single_digit_error_and_adjacent_swap() -> None:
    for _ in range(SAMPLE_SIZE):
        code = generate()
        typos = single_digit_errors(code) + adjacent_swaps(code)
        accepted = [typo for typo in typos if is_valid(typo)]
        assert accepted == [], f"{code}: {accepted}"


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("572", "4"), ("0", "0"), ("482913557", "5"), ("000000000", "0")],
)
def test_check_digit_known_values(digits: str, expected: str) -> None:
    # "572" -> 4 is the worked example of the Damm algorithm; a valid number checks to 0.
    assert check_digit(digits) == expected
    assert check_digit(digits + expected) == "0"


@pytest.mark.parametrize("digits", ["", "12a", "１２３", " 123"])
def test_check_digit_rejects_non_digits(digits: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        check_digit(digits)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4829135575", "4829135575"),
        ("T 482-913 5575", "4829135575"),
        (" 4829135575\n", "4829135575"),
        ("t4829135575", "4829135575"),
        ("\tT-482-913-5575\r\n", "4829135575"),
        ("482\u2013913\u20135575", "4829135575"),
        ("48291", "48291"),
        ("T48291355AB", "48291355AB"),
        ("TT4829135575", "T4829135575"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("T 482-913 5575", True),
        (" 4829135575\n", True),
        ("t 482 913 5575", True),
        ("4829135574", False),
        ("8429135575", False),
        ("482913557", False),
        ("48291355755", False),
        ("482913557a", False),
        ("ABCDEFGHIJ", False),
        ("４８２９１３５５７５", False),
        ("", False),
    ],
)
def test_is_valid_after_normalize(text: str, valid: bool) -> None:
    assert is_valid(normalize(text)) is valid


def test_is_valid_needs_normalized_input() -> None:
    assert not is_valid("482 913 5575")
    assert not is_valid("T4829135575")


def test_group_and_spoken_groups() -> None:
    assert group("4829135575") == "482 913 5575"
    assert spoken_groups("4829135575") == ["482", "913", "5575"]


@pytest.mark.parametrize("code", ["482913557", "482 913 5575", "48291355AB"])
def test_group_rejects_anything_but_ten_digits(code: str) -> None:
    with pytest.raises(ValueError, match="10 ASCII digits"):
        group(code)
