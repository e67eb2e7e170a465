"""Kiswahili for the ear: "Jumanne", "tarehe nane", "Desemba", "saa nne na nusu", "asubuhi".

The Swahili clock counts hours from sunrise: 07:00 is "saa moja" (the first hour), 10:30 is
"saa nne na nusu asubuhi", 13:00 "saa saba mchana". Quarter to is "kasorobo" after the next
hour ("saa tano kasorobo" is 10:45), and any other time after the half hour is the next hour
less its minutes ("saa tano kasoro dakika ishirini" is 10:40).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from menus.speech import Pace, Pieces

_UNITS = ["sifuri", "moja", "mbili", "tatu", "nne", "tano", "sita", "saba", "nane", "tisa"]
_TENS = [
    "_",
    "kumi",
    "ishirini",
    "thelathini",
    "arobaini",
    "hamsini",
    "sitini",
    "sabini",
    "themanini",
    "tisini",
]
_WEEKDAYS = ["Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili"]
_MONTHS = [
    "Januari",
    "Februari",
    "Machi",
    "Aprili",
    "Mei",
    "Juni",
    "Julai",
    "Agosti",
    "Septemba",
    "Oktoba",
    "Novemba",
    "Desemba",
]


class Swahili:
    language = "sw"
    # Every vowel is a syllable in Swahili, and its words are long.
    pace = Pace(per_vowel=0.17, per_word=0.13, per_digit=0.4)

    def number(self, n: int) -> Pieces:
        if n < 0:
            return ("hasi", *self.number(-n))
        if n < 100:
            return (_below_hundred(n),)
        if n < 1000:
            hundreds = (f"mia {_UNITS[n // 100]}",)
            return hundreds if n % 100 == 0 else (*hundreds, "na", _below_hundred(n % 100))
        return tuple(self.digit(c) for c in str(n))

    def day(self, day: date) -> Pieces:
        return (
            _WEEKDAYS[day.weekday()],
            f"tarehe {_below_hundred(day.day)}",
            _MONTHS[day.month - 1],
        )

    def time(self, moment: datetime) -> Pieces:
        hour, minute = moment.hour, moment.minute
        if minute == 45:
            at: Pieces = (f"saa {_swahili_hour(hour + 1)}", "kasorobo")
        elif minute == 0:
            at = (f"saa {_swahili_hour(hour)}",)
        elif minute == 15:
            at = (f"saa {_swahili_hour(hour)}", "na robo")
        elif minute == 30:
            at = (f"saa {_swahili_hour(hour)}", "na nusu")
        elif minute < 30:
            at = (f"saa {_swahili_hour(hour)}", "na dakika", _below_hundred(minute))
        else:  # 10:40 is "saa tano kasoro dakika ishirini": the next hour, less the minutes
            at = (f"saa {_swahili_hour(hour + 1)}", "kasoro dakika", _below_hundred(60 - minute))
        return (*at, _part_of_day(hour))  # 18:45 is still the evening

    def when(self, moment: datetime) -> Pieces:
        return (*self.day(moment.date()), *self.time(moment))

    def digit(self, digit: str) -> str:
        """Return one key of the keypad: a digit, "nyota" or "reli"."""
        return {"*": "nyota", "#": "reli"}.get(digit) or _UNITS[int(digit)]

    def vocabulary(self) -> Iterator[str]:
        yield from ("hasi", "na", "nyota", "reli")
        yield from (_below_hundred(n) for n in range(100))
        yield from (f"mia {_UNITS[n]}" for n in range(1, 10))
        yield from _WEEKDAYS
        yield from (f"tarehe {_below_hundred(n)}" for n in range(1, 32))
        yield from _MONTHS
        yield from (f"saa {_swahili_hour(hour)}" for hour in range(12))
        yield from ("kasorobo", "kasoro dakika", "na robo", "na nusu", "na dakika")
        yield from ("asubuhi", "mchana", "jioni", "usiku")


def _below_hundred(n: int) -> str:
    if n < 10:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] if unit == 0 else f"{_TENS[tens]} na {_UNITS[unit]}"


def _swahili_hour(hour: int) -> str:
    # 07:00 and 19:00 are the first hour; 06:00, 12:00, 18:00 and 00:00 the twelfth.
    counted = (hour - 6) % 12
    return _below_hundred(counted or 12)


def _part_of_day(hour: int) -> str:
    hour %= 24
    if 5 <= hour < 12:
        return "asubuhi"
    if 12 <= hour < 16:
        return "mchana"
    if 16 <= hour < 19:
        return "jioni"
    return "usiku"
