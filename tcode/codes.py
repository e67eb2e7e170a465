"""T-codes: 10-digit voucher codes with a Damm check digit.

Nine random digits come from `secrets`; the tenth is a Damm check digit. The Damm quasigroup
below is weakly totally anti-symmetric, so the check catches every single wrong digit and
every swap of two different neighbouring digits -- the two typos people make most when they
copy a code from an SMS onto a keypad.
"""

import secrets

CODE_LENGTH = 10
_RANDOM_DIGITS = CODE_LENGTH - 1
_ASCII_DIGITS = frozenset("0123456789")

# The standard order-10 Damm table (H. M. Damm, 2004), row = interim digit, column = next digit.
_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Phone keyboards and word processors turn "-" into these look-alikes.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH_REMOVAL = str.maketrans("", "", _DASHES)


def _is_ascii_digits(text: str) -> bool:
    """Tell whether text is non-empty and made only of the ASCII digits 0-9."""
    # str.isdigit() would also accept "٣" or "²", which int() or the table cannot take.
    return bool(text) and _ASCII_DIGITS.issuperset(text)


def _damm_interim(digits: str) -> int:
    """Run digits through the Damm quasigroup and return the final interim digit."""
    interim = 0
    for digit in digits:
        interim = _DAMM_TABLE[interim][ord(digit) - ord("0")]
    return interim


def check_digit(digits: str) -> str:
    """Return the Damm check digit that makes digits + check digit valid."""
    if not _is_ascii_digits(digits):
        raise ValueError("a check digit needs a non-empty string of ASCII digits")
    # With a zero diagonal, appending the interim digit always brings the interim back to 0.
    return str(_damm_interim(digits))


def generate() -> str:
    """Return a new random T-code: nine digits from `secrets` and a Damm check digit."""
    body = f"{secrets.randbelow(10**_RANDOM_DIGITS):0{_RANDOM_DIGITS}d}"
    return body + check_digit(body)


def normalize(text: str) -> str:
    """Strip whitespace, dashes and a leading T from typed text; the result may be invalid."""
    compact = "".join(text.split()).translate(_DASH_REMOVAL)
    if compact[:1] in ("T", "t"):
        compact = compact[1:]
    return compact


def is_valid(code: str) -> bool:
    """Tell whether code is exactly 10 ASCII digits whose Damm check passes."""
    return len(code) == CODE_LENGTH and _is_ascii_digits(code) and _damm_interim(code) == 0


def spoken_groups(code: str) -> list[str]:
    """Split a 10-digit code into the 3-3-4 groups it is read aloud in."""
    if len(code) != CODE_LENGTH or not _is_ascii_digits(code):
        raise ValueError("a T-code has exactly 10 ASCII digits")
    return [code[:3], code[3:6], code[6:]]


def group(code: str) -> str:
    """Format a 10-digit code for display, e.g. "482 913 5575"."""
    return " ".join(spoken_groups(code))
