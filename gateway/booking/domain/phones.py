"""Phone numbers in E.164, read with Google's libphonenumber rules."""

from __future__ import annotations

import phonenumbers

from gateway.booking.domain.errors import InvalidPhone


def to_e164(raw: str, default_region: str) -> str:
    """Return `raw` as E.164 (`0712 345678` in KE → `+254712345678`) or raise InvalidPhone."""
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(phone=raw[:4] + "…") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(phone=raw[:4] + "…")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
