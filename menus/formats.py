"""Formats that are the same in every language: clock times and T-code groups."""

from __future__ import annotations

from datetime import datetime

from menus.texts import Clock, Digits


def clock(moment: datetime) -> Clock:
    """Return "09:30": the hospital's local time exactly as the core gave it."""
    return Clock(f"{moment:%H:%M}", moment)


def group_tcode(tcode: str) -> Digits:
    """Return "482 913 5575": the groups people read aloud and type at the kiosk."""
    if len(tcode) != 10:
        return Digits(tcode)
    return Digits(f"{tcode[:3]} {tcode[3:6]} {tcode[6:]}")
