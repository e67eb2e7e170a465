"""What a national ID number looks like in each country, checked before it is hashed.

The registration core accepts any plausible ID (`operations.registration.ID_FORM`); a country
listed here narrows that to the form its IDs really have, so a caller who mistypes is told
what is expected rather than registering a number no desk will ever match. The country is
the deployment's (`app.default_region`): a national service registers that nation's IDs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.booking.domain.errors import BookingError, InvalidRegistration


@dataclass(frozen=True)
class IdFormat:
    """A country's national ID: only digits, between `min_digits` and `max_digits` of them."""

    min_digits: int
    max_digits: int

    def matches(self, normalised: str) -> bool:
        return normalised.isdigit() and self.min_digits <= len(normalised) <= self.max_digits


# By ISO 3166 region code, as `app.default_region` names it. Kenya: the ID card number
# (7 or 8 digits); Tanzania: the NIDA number (20 digits); Rwanda: the ID number (16 digits).
ID_FORMATS: dict[str, IdFormat] = {
    "KE": IdFormat(7, 8),
    "TZ": IdFormat(20, 20),
    "RW": IdFormat(16, 16),
}
_SEPARATORS = re.compile(r"[\s./-]")


def id_format(region: str) -> IdFormat | None:
    """The form of the region's IDs; None: any the registration core accepts."""
    return ID_FORMATS.get(region.upper())


def check_id_format(raw: str, region: str) -> None:
    """Refuse an ID that cannot be one of the region's, saying the form expected (the facts
    name the digits, never the value typed)."""
    form = id_format(region)
    if form is not None and not form.matches(_SEPARATORS.sub("", raw)):
        raise InvalidIdFormat(form)


class InvalidIdFormat(InvalidRegistration):
    """An ID not of the country's form: `invalid_registration` of the field `national_id`,
    with the number of digits expected, so the caller can be told what to type."""

    def __init__(self, form: IdFormat):
        BookingError.__init__(
            self, field="national_id", min_digits=form.min_digits, max_digits=form.max_digits
        )
