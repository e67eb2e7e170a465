"""What a clerk typed into the console's search box: a T-code, a booking reference, a whole
phone number or the last digits of one.

One box takes all of them, so a typed text can be read more than one way (8 digits may be a
reference or a phone's ending; `0712345678` is a phone written locally, or a T-code). `Term`
keeps every reading; the search tries the exact ones (T-code, reference) first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.booking.domain.errors import InvalidPhone
from gateway.booking.domain.phones import to_e164
from tcode import codes

MIN_ENDING = 4  # fewer digits than this match too many phones to be worth a list
# gateway.booking.sql.bookings.REF_ALPHABET: eight of these letters and digits.
REF = re.compile(r"[A-HJ-NP-Z2-9]{8}")
SPACING = re.compile(r"[\s\-\u2010-\u2015\u2212]")  # as tcode.codes.normalize drops
TRUNK_PREFIX = "0"  # how people write their own number at home: 0712 345678


@dataclass(frozen=True)
class Term:
    tcode: str | None = None  # 10 digits whose Damm check digit is right
    ref: str | None = None  # reads as a booking reference
    phone: str | None = None  # a whole number, in E.164
    ending: str | None = None  # the last digits of a phone
    problem: str | None = None  # said when nothing is found: tcode_typo, too_short, unreadable


def read_term(text: str, region: str) -> Term:
    """Every way the console reads `text` (spaces and dashes are ignored)."""
    if text.strip().startswith("+"):
        whole = _phone(text, region)
        return Term(phone=whole) if whole else Term(problem="unreadable")
    digits = codes.normalize(text)  # drops a T-code's leading "T" too
    if digits.isascii() and digits.isdigit():
        return _digits(digits, region)
    ref = SPACING.sub("", text).upper()
    return Term(ref=ref) if REF.fullmatch(ref) else Term(problem="unreadable")


def _digits(digits: str, region: str) -> Term:
    if len(digits) == codes.CODE_LENGTH:
        # Ten digits are a T-code, or a local number with its trunk prefix.
        local = _phone(digits, region) if digits.startswith(TRUNK_PREFIX) else None
        if codes.is_valid(digits):
            return Term(tcode=digits, phone=local)
        return Term(phone=local, problem="tcode_typo")
    if len(digits) < MIN_ENDING:
        return Term(problem="too_short")
    return Term(ref=digits if REF.fullmatch(digits) else None, ending=digits)


def _phone(text: str, region: str) -> str | None:
    try:
        return to_e164(text, region)
    except InvalidPhone:
        return None
