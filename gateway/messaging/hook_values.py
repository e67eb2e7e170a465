"""What a provider hook may store: message ids checked at the edge, NUL bytes stripped.

Provider ids go into `String(80)` columns and Redis keys. An id that is too long, or holds a
NUL or another control character, is not one the provider made: the hook answers 400 before
anything is stored (PostgreSQL would refuse the row, and the provider would retry a 500 for
ever; security review #12). Every other text (SMS text, failure reasons, the raw form) only
loses its NUL bytes, which no PostgreSQL text or JSON column accepts, while SQLite does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

MAX_ID = 80  # the provider_message_id columns
BAD_ID = "bad message id"  # the plain, stable body of the 400


def valid_id(value: str) -> bool:
    """True for a provider message id we can store: 1 to MAX_ID characters, no control ones."""
    return 0 < len(value) <= MAX_ID and not any(unicodedata.category(ch) == "Cc" for ch in value)


def without_nul(text: str) -> str:
    return text.replace("\x00", "")


def clean_form(form: Mapping[str, str]) -> dict[str, str]:
    """The form's fields (the first value of each) with NUL bytes stripped from names and
    values."""
    return {without_nul(key): without_nul(value) for key, value in form.items()}
