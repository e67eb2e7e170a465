"""The GSM-7 alphabet (GSM 03.38), the one table for USSD screens and SMS alike.

A test compares these tables with the `gsm0338` codec for every Unicode character, so they
cannot drift from the standard.
"""

from __future__ import annotations

ESC = "\x1b"

# The basic table in septet order, 0x00 to 0x7F. Septet 0x1B is ESC, the escape to the
# extension table: it is no character of its own, so BASIC leaves it out.
SEPTETS = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
BASIC = frozenset(SEPTETS) - {ESC}
# Each costs two septets (ESC and its own), and several telcos and handsets render them badly.
EXTENSION = frozenset("\f^{}\\[~]|€")

# A USSD screen breaks its lines with LF only: CR is basic, but it upsets some handsets' layout.
SCREEN = BASIC - {"\r"}


def is_gsm7_basic(text: str) -> bool:
    """Tell whether every character of `text` is in the basic table (one septet each)."""
    return BASIC.issuperset(text)


def bad_chars(text: str) -> str:
    """Return the characters of `text` a USSD screen may not carry, each once, in order."""
    if SCREEN.issuperset(text):
        return ""
    return "".join(dict.fromkeys(c for c in text if c not in SCREEN))


def gsm7_only(text: str) -> str:
    """Return `text` with every character a USSD screen may not carry replaced by `?`."""
    if SCREEN.issuperset(text):
        return text
    return "".join(c if c in SCREEN else "?" for c in text)
