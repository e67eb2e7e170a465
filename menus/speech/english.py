"""English for the ear: "Tuesday", "the eighth", "of December", "at half past ten", "in the morning"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from menus.speech import ENGLISH_PACE, Pieces

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_UNITS = [
    "_",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_ORDINAL_TENS = {20: "twentieth", 30: "thirtieth"}
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


class English:
    language = "en"
    pace = ENGLISH_PACE

    def number(self, n: int) -> Pieces:
        if n < 0:
            return ("minus", *self.number(-n))
        if n < 100:
            return (_below_hundred(n),)
        if n < 1000:
            hundreds = (f"{_UNITS[n // 100]} hundred",)
            return hundreds if n % 100 == 0 else (*hundreds, "and", _below_hundred(n % 100))
        return tuple(self.digit(c) for c in str(n))

    def day(self, day: date) -> Pieces:
        return (
            _WEEKDAYS[day.weekday()],
            f"the {_ordinal(day.day)}",
            f"of {_MONTHS[day.month - 1]}",
        )

    def time(self, moment: datetime) -> Pieces:
        hour, minute = moment.hour, moment.minute
        if (hour, minute) == (12, 0):
            return ("midday",)
        if (hour, minute) == (0, 0):
            return ("midnight",)
        said = _clock_hour(hour)
        if minute == 0:
            at: Pieces = (f"{said} o'clock",)
        elif minute == 30:
            at = (f"half past {said}",)
        elif minute == 15:
            at = (f"quarter past {said}",)
        elif minute == 45:
            at = (f"quarter to {_clock_hour(hour + 1)}",)
        else:
            at = (said, f"oh {_UNITS[minute]}" if minute < 10 else _below_hundred(minute))
        return (*at, _part_of_day(hour))  # 11:45 is still the morning

    def when(self, moment: datetime) -> Pieces:
        return (*self.day(moment.date()), "at", *self.time(moment))

    def digit(self, digit: str) -> str:
        """Return one key of the keypad: a digit, "star" or "hash"."""
        return {"*": "star", "#": "hash"}.get(digit) or _UNITS[int(digit)]

    def vocabulary(self) -> Iterator[str]:
        yield from ("minus", "star", "hash")
        yield from ("and", "at")
        yield from (_below_hundred(n) for n in range(100))
        yield from (f"{_UNITS[n]} hundred" for n in range(1, 10))
        yield from _WEEKDAYS
        yield from (f"the {_ordinal(n)}" for n in range(1, 32))
        yield from (f"of {month}" for month in _MONTHS)
        yield from ("midday", "midnight")
        for n in range(1, 13):
            said = _UNITS[n]
            yield from (f"{said} o'clock", f"half past {said}")
            yield from (f"quarter past {said}", f"quarter to {said}")
        yield from (f"oh {_UNITS[n]}" for n in range(1, 10))
        yield from ("in the morning", "in the afternoon", "in the evening", "at night")


def _below_hundred(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] if unit == 0 else f"{_TENS[tens]}-{_UNITS[unit]}"


def _ordinal(n: int) -> str:
    if n < 20:
        return _ORDINAL_UNITS[n]
    tens, unit = divmod(n, 10)
    return _ORDINAL_TENS[n] if unit == 0 else f"{_TENS[tens]}-{_ORDINAL_UNITS[unit]}"


def _clock_hour(hour: int) -> str:
    return _UNITS[(hour - 1) % 12 + 1]


def _part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "in the morning"
    if 12 <= hour < 17:
        return "in the afternoon"
    if 17 <= hour < 21:
        return "in the evening"
    return "at night"
