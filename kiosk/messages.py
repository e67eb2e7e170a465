"""One sentence per kiosk status for the citizen, in English and Swahili."""

from __future__ import annotations

from datetime import datetime
from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "checked_in": "Welcome! You are checked in. Your number is {queue_number}.",
        "valid": "This voucher is valid for {starts_at}.",
        "already_checked_in": "You already checked in at {checked_in_at}. Your number is {queue_number}.",
        "bad_code": "We could not read that code. Please check the 10 digits and try again.",
        "bad_signature": "This code is not a genuine voucher. Please go to reception.",
        "unknown_code": "We cannot find this T-code. Please check it or go to reception.",
        "cancelled": "This appointment was cancelled. Please go to reception.",
        "replaced": "This voucher was replaced by a newer one. Please use the latest SMS.",
        "expired": "This voucher has expired. Please go to reception.",
        "wrong_hospital": "This appointment is at {hospital}, not here.",
        "wrong_day": "Your appointment is on {day}. Please come back that day.",
        "too_early": "You are early. Check-in opens at {opens_at}.",
        "too_late": "Your appointment was at {starts_at}. Please go to reception.",
        "unauthorized": "This kiosk is not registered. Please call the IT desk.",
        "rate_limited": "Too many tries. Please wait a minute or go to reception.",
        "pin_accepted": "The setup PIN is right.",
        "pin_refused": "This is not the setup PIN.",
    },
    "sw": {
        "checked_in": "Karibu! Umesajiliwa. Nambari yako ni {queue_number}.",
        "valid": "Tiketi hii ni halali kwa {starts_at}.",
        "already_checked_in": "Ulisajiliwa tayari saa {checked_in_at}. Nambari yako ni {queue_number}.",
        "bad_code": "Hatukuweza kusoma msimbo huo. Tafadhali angalia tarakimu 10 ujaribu tena.",
        "bad_signature": "Msimbo huu si tiketi halali. Tafadhali nenda mapokezi.",
        "unknown_code": "Hatuipati nambari hii ya T. Tafadhali iangalie au nenda mapokezi.",
        "cancelled": "Miadi hii ilifutwa. Tafadhali nenda mapokezi.",
        "replaced": "Tiketi hii ilibadilishwa na mpya. Tafadhali tumia SMS ya mwisho.",
        "expired": "Tiketi hii imepitwa na wakati. Tafadhali nenda mapokezi.",
        "wrong_hospital": "Miadi hii ni katika {hospital}, si hapa.",
        "wrong_day": "Miadi yako ni tarehe {day}. Tafadhali rudi siku hiyo.",
        "too_early": "Umefika mapema. Usajili unaanza saa {opens_at}.",
        "too_late": "Miadi yako ilikuwa saa {starts_at}. Tafadhali nenda mapokezi.",
        "unauthorized": "Kioski hiki hakijasajiliwa. Tafadhali piga simu idara ya TEHAMA.",
        "rate_limited": "Majaribio mengi mno. Tafadhali subiri dakika moja au nenda mapokezi.",
        "pin_accepted": "PIN ya kuweka ni sahihi.",
        "pin_refused": "Hii si PIN ya kuweka.",
    },
}
WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "sw": ["Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili"],
}


def message(status: str, language: str, **facts: Any) -> str:
    lang = language if language in MESSAGES else "en"
    values = {k: _text(v, lang) for k, v in facts.items()}
    values.setdefault("queue_number", "")
    try:
        return MESSAGES[lang][status].format(**values)
    except KeyError:  # a fact is missing: say the plain sentence rather than fail
        return MESSAGES[lang][status].split("{")[0].rstrip(" ,.") + "."


def _text(value: Any, lang: str) -> str:
    if isinstance(value, datetime):
        return f"{WEEKDAYS[lang][value.weekday()]} {value:%d %b %H:%M}"
    if hasattr(value, "isoformat") and hasattr(value, "weekday"):  # a date
        return f"{WEEKDAYS[lang][value.weekday()]} {value:%d %b %Y}"
    return str(value)
