"""Days, times and numbers said for the ear, in English and in Swahili (the Swahili clock).

Every piece a day or time can be said with must be in the language's vocabulary, or a call
would fall back to text to speech: checked for every minute of a day and every day of a year.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from menus.speech import Speech, speeches
from menus.speech.english import English
from menus.speech.swahili import Swahili

TUESDAY = date(2026, 12, 8)


def at(clock: str) -> datetime:
    return datetime.combine(TUESDAY, datetime.strptime(clock, "%H:%M").time())


@pytest.mark.parametrize(
    ("clock", "english", "swahili"),
    [
        ("07:00", "seven o'clock in the morning", "saa moja asubuhi"),
        ("10:30", "half past ten in the morning", "saa nne na nusu asubuhi"),
        ("10:15", "quarter past ten in the morning", "saa nne na robo asubuhi"),
        ("10:45", "quarter to eleven in the morning", "saa tano kasorobo asubuhi"),
        ("10:40", "ten forty in the morning", "saa tano kasoro dakika ishirini asubuhi"),
        ("09:05", "nine oh five in the morning", "saa tatu na dakika tano asubuhi"),
        ("11:45", "quarter to twelve in the morning", "saa sita kasorobo asubuhi"),
        ("12:00", "midday", "saa sita mchana"),
        ("12:45", "quarter to one in the afternoon", "saa saba kasorobo mchana"),
        ("13:00", "one o'clock in the afternoon", "saa saba mchana"),
        ("16:20", "four twenty in the afternoon", "saa kumi na dakika ishirini jioni"),
        ("18:45", "quarter to seven in the evening", "saa moja kasorobo jioni"),
        ("00:00", "midnight", "saa sita usiku"),
        ("00:30", "half past twelve at night", "saa sita na nusu usiku"),
        ("23:45", "quarter to twelve at night", "saa sita kasorobo usiku"),
    ],
)
def test_times_are_said_the_way_people_say_them(clock: str, english: str, swahili: str) -> None:
    assert " ".join(English().time(at(clock))) == english
    assert " ".join(Swahili().time(at(clock))) == swahili


@pytest.mark.parametrize(
    ("speech", "said"),
    [
        (English(), "Tuesday the eighth of December at half past ten in the morning"),
        (Swahili(), "Jumanne tarehe nane Desemba saa nne na nusu asubuhi"),
    ],
)
def test_a_day_and_time(speech: Speech, said: str) -> None:
    assert " ".join(speech.when(at("10:30"))) == said


@pytest.mark.parametrize(
    ("n", "english", "swahili"),
    [
        (0, "zero", "sifuri"),
        (6, "six", "sita"),
        (21, "twenty-one", "ishirini na moja"),
        (99, "ninety-nine", "tisini na tisa"),
        (100, "one hundred", "mia moja"),
        (125, "one hundred and twenty-five", "mia moja na ishirini na tano"),
    ],
)
def test_numbers(n: int, english: str, swahili: str) -> None:
    assert " ".join(English().number(n)) == english
    assert " ".join(Swahili().number(n)) == swahili


@pytest.mark.parametrize("language", ["en", "sw"])
def test_every_piece_said_is_in_the_vocabulary(language: str) -> None:
    speech = speeches()[language]
    known = set(speech.vocabulary())
    said: set[str] = set()
    start = datetime(2026, 1, 1)
    for minute in range(24 * 60):
        said.update(speech.time(start + timedelta(minutes=minute)))
    for day in range(366):
        said.update(speech.day(start.date() + timedelta(days=day)))
    for n in range(1000):
        said.update(speech.number(n))
    said.update(speech.digit(key) for key in "0123456789*#")
    assert said - known == set()
