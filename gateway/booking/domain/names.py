"""Names in the citizen's language, and the short hospital name an SMS uses.

The catalogue gives every city, hospital and department one name (English, as a rule) and,
optionally, the same name in other languages (`names: {sw: ...}`); a hospital may also give the
short name citizens know it by (`sms_name`, `sms_names`). Each is kept as loaded, GSM-7
transliterated; these functions choose the one a citizen reads, falling back to the name.
"""

from __future__ import annotations

from collections.abc import Mapping

# The voucher SMS must stay one segment with the longest first name of a dependant, the
# longest weekday and a public link of some 40 characters: that leaves a hospital 13.
SMS_NAME_MAX = 13
# A short name never ends on one of these ("Moi Teaching and" becomes "Moi Teaching").
_DANGLING = frozenset({"and", "of", "the", "for", "&", "-", "na", "ya", "wa", "la", "za", "kwa"})
_TRAILING = " ,;:-/&("


def in_language(name: str, names: Mapping[str, str] | None, language: str | None) -> str:
    """The name in `language` if the catalogue gives one, else the name itself."""
    if names and language:
        return names.get(language) or name
    return name


def default_sms_name(name: str) -> str:
    """The hospital's name cut at a word boundary to SMS_NAME_MAX characters, tidily.

    Hospital names start with what tells them apart ("Kenyatta National Hospital",
    "Jaramogi Oginga Odinga Teaching and Referral Hospital"), so their first words are the
    name citizens use: "Kenyatta", "Jaramogi". A first word longer than that is cut.
    """
    words = name.split()
    while len(words) > 1 and len(" ".join(words)) > SMS_NAME_MAX:
        words.pop()
    while len(words) > 1 and (words[-1].lower() in _DANGLING or not words[-1].strip(_TRAILING)):
        words.pop()
    return " ".join(words)[:SMS_NAME_MAX].rstrip(_TRAILING)


def sms_name(
    name: str,
    short: str | None,
    shorts: Mapping[str, str] | None,
    language: str | None,
) -> str:
    """How an SMS in `language` names a hospital: its short name in that language, else its
    short name, else its name shortened; never its code.

    The name shortened is the catalogue's own, not a translation: a short name is a proper
    name ("Kenyatta"), and translations often lead with the generic word ("Hospitali ya
    Kenyatta").
    """
    if shorts and language and shorts.get(language):
        return shorts[language]
    return short or default_sms_name(name)
