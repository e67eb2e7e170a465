"""Which characters a USSD screen may carry: the GSM-7 basic table, nothing else."""

from __future__ import annotations

from functools import lru_cache

import gsm0338  # noqa: F401  (importing it registers the "gsm03.38" codec)

# The codec encodes ESC itself as one byte, and the extension characters as ESC plus a byte;
# handsets and telcos render neither reliably. CR is basic but breaks some handsets' layout.
_FORBIDDEN = frozenset("[]{}€^|~\\\f\x1b\r")


@lru_cache(maxsize=1024)
def is_gsm7_basic(char: str) -> bool:
    if char in _FORBIDDEN:
        return False
    try:
        return len(char.encode("gsm03.38")) == 1
    except UnicodeEncodeError:
        return False


# Most screens are plain ASCII: one C-speed set test answers for them (a USSD hop renders one).
_ASCII_ALLOWED = frozenset(c for c in map(chr, range(128)) if is_gsm7_basic(c))


def bad_chars(text: str) -> str:
    """Return the characters of `text` outside the allowed set, each once, in order."""
    if _ASCII_ALLOWED.issuperset(text):
        return ""
    return "".join(dict.fromkeys(c for c in text if not is_gsm7_basic(c)))


def gsm7_only(text: str) -> str:
    """`text` with every character outside the allowed set replaced by `?`."""
    if _ASCII_ALLOWED.issuperset(text):
        return text
    return "".join(c if is_gsm7_basic(c) else "?" for c in text)
