"""Transliteration of names into the GSM-7 basic table (the table itself is `menus.gsm7`).

USSD screens and SMS must stay in the GSM 03.38 basic table (no extension characters, which
some telcos render badly and which cost two septets); catalogue names are transliterated once,
when loaded, so no hop has to do it.
"""

from __future__ import annotations

import unicodedata

from anyascii import anyascii

from menus.gsm7 import BASIC

# Look-alikes with a better GSM-7 stand-in than anyascii's guess.
REPLACEMENTS = {
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "|": "/",
    "~": "-",
    "^": "",
    "\\": "/",
    "€": "EUR",
    "`": "'",
    "…": "...",
    "–": "-",
    "—": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "«": '"',
    "»": '"',
    "\u00a0": " ",
}


def to_gsm7(text: str) -> str:
    """Transliterate to plain GSM-7 basic characters: `Hôpital Général` → `Hopital General`.

    Accents are dropped even where the basic table has the letter (é), because several
    handsets and aggregators still garble them; plain Latin reads everywhere.
    """
    out: list[str] = []
    for ch in text:
        ch = REPLACEMENTS.get(ch, ch)
        decomposed = unicodedata.normalize("NFKD", ch)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
        if not plain.isascii():
            plain = anyascii(plain)
        out.append("".join(REPLACEMENTS.get(c, c) for c in plain))
    result = " ".join("".join(out).split())
    return "".join(c for c in result if c in BASIC)
