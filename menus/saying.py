"""Turn a screen's texts into what a voice says and the recordable pieces it is made of.

A `Text` is said with the voice catalogue's wording for its key when there is one (written
for the ear: "To book an appointment, press 1", "with 6 free"), else with the screen's own
wording; its parameters are said by the language's `Speech` (days, times and numbers in
words) and names as they are. Each literal stretch of a wording and each spoken value is a
piece: `ors ivr prompts` records every piece once, and a prompt is the pieces joined.
Without a `Speech` for the language, days, times and numbers have no pieces (text to speech
says them), and `menus.prompts` lists no pieces at all: such a language is never recorded.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from menus import speech as speaking
from menus.catalogue import Catalogue
from menus.speech import Speech
from menus.texts import Clock, Digits, Moment, Text
from menus.voice import VoiceCatalogue

# Left off the ends of a piece: punctuation a recording says with its intonation anyway.
_EDGES = " \t\n,.;:!?()"


@dataclass(frozen=True)
class Said:
    text: str  # the words, as text to speech would read them
    pieces: tuple[str, ...] | None  # recordable pieces in order; None: not from recordings


def piece(text: str) -> str:
    """Return `text` as a recordable piece: no outer punctuation, spaces collapsed."""
    return " ".join(text.split()).strip(_EDGES)


def template_pieces(template: str) -> Iterator[str]:
    """Yield the literal pieces of a wording (the words between its {placeholders})."""
    for literal, _, _, _ in string.Formatter().parse(template):
        if found := piece(literal):
            yield found


class Sayer:
    """Says screen values in one language."""

    def __init__(self, screens: Catalogue, voice: VoiceCatalogue, speech: Speech | None) -> None:
        self.screens, self.voice, self.speech = screens, voice, speech

    def line(self, value: object) -> Said:
        """Say a prompt line."""
        return self.value(value)

    def option(self, label: object, key: int) -> Said:
        """Say "To book an appointment, press 1": the option's own wording, else the frame."""
        if isinstance(label, Text) and (wording := self.voice.option(label.key)) is not None:
            return self.wording(wording, {**label.params, "key": key})
        return self.wording(self.voice.texts["option"], {"label": label, "key": key})

    def fixed(self, name: str, params: Mapping[str, object]) -> Said:
        """Say a text of the voice catalogue (navigation, hints, goodbye)."""
        return self.wording(self.voice.texts[name], params)

    def wording(self, template: str, params: Mapping[str, object]) -> Said:
        text: list[str] = []
        pieces: list[str] | None = []
        for literal, field, _, _ in string.Formatter().parse(template):
            text.append(literal)
            if pieces is not None and (found := piece(literal)):
                pieces.append(found)
            if field is None:
                continue
            said = self.value(params[field])
            text.append(said.text)
            pieces = None if pieces is None or said.pieces is None else [*pieces, *said.pieces]
        return Said("".join(text), None if pieces is None else tuple(pieces))

    def value(self, value: object) -> Said:
        if isinstance(value, Text):
            wording = self.voice.screen(value.key) or self.screens.texts.get(value.key)
            return self.wording(wording, value.params) if wording else Said(value, None)
        speech = self.speech
        if isinstance(value, Moment):
            if speech is None:
                return Said(str(value), None)
            if isinstance(value.value, datetime):
                return _joined(speech.when(value.value))
            return _joined(speech.day(value.value))
        if isinstance(value, Clock):
            return Said(str(value), None) if speech is None else _joined(speech.time(value.value))
        if isinstance(value, Digits):
            # "4 8 2, 9 1 3, 5 5 7 5": digit by digit, a pause between the groups.
            text = ", ".join(" ".join(group) for group in value.split())
            return Said(text, None if speech is None else speaking.digits(speech, value))
        if isinstance(value, bool):
            return Said(str(value), None)
        if isinstance(value, int):
            return Said(str(value), None if speech is None else speech.number(value))
        text = str(value)
        if speech is not None and text and set(text) <= speaking.KEYS and not text.isdigit():
            # A code to dial ("*384#"): key by key.
            return Said(text, speaking.digits(speech, text))
        # A name (hospital, department) or a line the core wrote: said as it is.
        return Said(text, (piece(text),) if piece(text) else ())


def _joined(pieces: tuple[str, ...]) -> Said:
    return Said(" ".join(pieces), pieces)


def wording_problems(sayer: Sayer) -> list[str]:
    """Return what is wrong with a voice catalogue's wordings for the screens' texts: a key
    the screens do not have, or a placeholder the screen text does not fill."""
    problems = []
    language = sayer.screens.language
    for name, wording in sayer.voice.texts.items():
        section, _, key = name.partition(".")
        if section not in ("screens", "options"):
            continue
        if key not in sayer.screens.texts:
            problems.append(f"voice/{language}.yaml: {name}: no screen text {key!r}")
            continue
        allowed = _fields(sayer.screens.texts[key]) | ({"key"} if section == "options" else set())
        if extra := _fields(wording) - allowed:
            problems.append(f"voice/{language}.yaml: {name}: unknown placeholders {sorted(extra)}")
        if section == "options" and "key" not in _fields(wording):
            problems.append(f"voice/{language}.yaml: {name}: must say which {{key}} to press")
    return problems


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
