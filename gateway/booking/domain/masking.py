"""How staff screens show a phone number or a T-code: enough to tell two apart, not to use one.

A phone keeps its country code and first digit and its last three (`+2547•••••123`, the shape
the logs use); a T-code keeps only its last four (`••• ••• 5575`), which a clerk reads back to
the citizen holding the SMS, while the whole code would check anyone in at a kiosk.
"""

from __future__ import annotations

from gateway.booking.domain.persons import has_phone

HIDDEN = "•"
PHONE_HEAD, PHONE_TAIL = 5, 3  # "+2547" … "123"
TCODE_TAIL = 4


def masked_phone(phone: str) -> str | None:
    """The phone as a staff page shows it; None for a person without one (desk-only, erased)."""
    if not has_phone(phone):
        return None
    if len(phone) <= PHONE_HEAD + PHONE_TAIL:
        return HIDDEN * (len(phone) - PHONE_TAIL) + phone[-PHONE_TAIL:]
    hidden = len(phone) - PHONE_HEAD - PHONE_TAIL
    return phone[:PHONE_HEAD] + HIDDEN * hidden + phone[-PHONE_TAIL:]


def masked_tcode(tcode: str) -> str:
    """A 10-digit T-code in its 3-3-4 groups, all but the last four digits hidden."""
    shown = HIDDEN * (len(tcode) - TCODE_TAIL) + tcode[-TCODE_TAIL:]
    return f"{shown[:3]} {shown[3:6]} {shown[6:]}"
