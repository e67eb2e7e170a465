"""Saying numbers, days and times for the ear, one language at a time, in recordable pieces.

A voice prompt is built from fragments a person can record once: "Tuesday", "the eighth",
"of December", "at half past ten", "in the morning". Each language has its own grammar (a
Swahili clock starts at seven in the morning), so each is a small class; `vocabulary` lists
every piece it can ever say, so `ors ivr prompts` can render them all ahead of any call.
A language without a class here is spoken by the provider's text to speech, if at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

Pieces = tuple[str, ...]
_VOWELS = re.compile(r"[aeiouy]", re.IGNORECASE)


@dataclass(frozen=True)
class Pace:
    """How long a language takes to say a text, estimated from its letters: page plans must
    keep each voice page under 40 seconds before anything is recorded. Fitted to espeak-ng's
    pieces (`ors ivr prompts`) with the gaps the joining adds; people speak about as fast."""

    per_vowel: float
    per_word: float
    per_digit: float
    per_sentence: float = 0.35  # the pause between sentences (gateway.voice.wav)

    def seconds(self, text: str) -> float:
        digits = sum(c.isdigit() for c in text)
        spoken = len(_VOWELS.findall(text)) * self.per_vowel + len(text.split()) * self.per_word
        return spoken + digits * self.per_digit + self.per_sentence


# English at 150 words a minute; also the estimate for a language without a Speech here.
ENGLISH_PACE = Pace(per_vowel=0.1, per_word=0.19, per_digit=0.3)


class Speech(Protocol):
    language: str
    pace: Pace

    def number(self, n: int) -> Pieces: ...

    def day(self, day: date) -> Pieces: ...

    def time(self, moment: datetime) -> Pieces: ...

    def when(self, moment: datetime) -> Pieces: ...

    def digit(self, digit: str) -> str: ...

    def vocabulary(self) -> Iterable[str]: ...


KEYS = frozenset("0123456789*#")


def digits(speech: Speech, text: str) -> Pieces:
    """Return every key of `text` on its own ("4 8 2" for "482"); spaces only pause."""
    return tuple(speech.digit(c) for c in text if c in KEYS)


def speeches() -> dict[str, Speech]:
    """Return the languages that can be said from fragments, by code."""
    from menus.speech.english import English
    from menus.speech.swahili import Swahili

    return {"en": English(), "sw": Swahili()}
