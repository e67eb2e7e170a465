"""Speak replies on a phone call and read the keys pressed: "For Nairobi, press 1." ...

Keys 1-8 pick an option of the page being heard, 9 opens the next page, star goes back (to
the previous page, then the previous screen) and 0 says the page again. Options are numbered
per page, so every choice is one key press; `#` ends a number typed on a screen that asks for
one. T-codes are read digit by digit in their three groups ("4 8 2, 9 1 3, 5 5 7 5").

A page holds at most 8 options and never more than 40 seconds of speech at 150 words a
minute, hint included. Each sentence that is the same on every call carries a prompt key
("screen.book.city", "option.main.book.1", "voice.nav.more"), so a recording can replace it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from menus import speech as speaking
from menus.catalogue import REFERENCE, Catalogue
from menus.keys import Entry, Invalid, Key, Nav, Pick
from menus.paging import split_pages
from menus.reply import Reply
from menus.saying import Said, Sayer, wording_problems
from menus.speech import ENGLISH_PACE, Speech
from menus.voice import VoiceCatalogue

MAX_KEYS = 8
MORE_KEY, BACK_KEY, REPEAT_KEY, FINISH_KEY = "9", "*", "0", "#"
WORDS_PER_MINUTE = 150
MAX_SECONDS = 40
# Room kept under 40 seconds: estimates of speech are estimates.
PLANNED_SECONDS = MAX_SECONDS - 3
# Under 40 seconds, with room for the pauses a voice makes between sentences.
MAX_WORDS = MAX_SECONDS * WORDS_PER_MINUTE // 60 - 5
_DIGITS = re.compile(r"[0-9]{1,32}")
_GROUPED_TCODE = re.compile(r"\b(\d{3}) (\d{3}) (\d{4})\b")
_OPTION_KEYS = "12345678"


@dataclass(frozen=True)
class Sentence:
    text: str  # what text to speech says
    # The recordable pieces it is made of, in order (menus.saying); None: only speech can say it.
    pieces: tuple[str, ...] | None = None


def words(text: str) -> int:
    """Count spoken words the way the 40-second budget does: whitespace-separated pieces."""
    return len(text.split())


def spoken(line: str) -> str:
    """Return a screen line as a sentence: T-codes digit by digit, a full stop at the end."""
    text = _GROUPED_TCODE.sub(lambda m: ", ".join(" ".join(g) for g in m.groups()), line.strip())
    text = text[:1].upper() + text[1:]  # "your clinic" stands as a sentence of its own
    return text if text.endswith((".", "!", "?")) else text + "."


class IvrRenderer:
    """Lay out replies as sentences and read key presses; one page plan for both jobs."""

    def __init__(
        self,
        voices: Mapping[str, VoiceCatalogue],
        screens: Mapping[str, Catalogue],
        speeches: Mapping[str, Speech] | None = None,
    ) -> None:
        if REFERENCE not in voices:
            raise ValueError(f"no voice catalogue for {REFERENCE!r}")
        self.voices = voices
        found = speaking.speeches() if speeches is None else speeches
        self._sayers = {
            code: Sayer(cat, voices.get(code) or voices[REFERENCE], found.get(code))
            for code, cat in screens.items()
        }
        problems = [p for code in self._sayers for p in wording_problems(self._sayers[code])]
        if problems:
            raise ValueError("; ".join(problems))
        self._nav_seconds = {
            key: max(
                self._seconds(code, self.sayer(code).fixed(key, {}).text) for code in self._sayers
            )
            for key in ("nav.more", "nav.back", "nav.repeat", "hint.no_input", "hint.invalid")
        }

    def voice(self, language: str) -> VoiceCatalogue:
        return self.voices.get(language) or self.voices[REFERENCE]

    def languages(self) -> tuple[str, ...]:
        """Return the codes of the languages a call may choose."""
        return tuple(self._sayers)

    def sayer(self, language: str) -> Sayer:
        return self._sayers.get(language) or self._sayers[REFERENCE]

    def say(self, language: str, name: str, /, **params: object) -> Sentence:
        """Return a sentence of the voice catalogue (navigation, hints, goodbye)."""
        said = self.sayer(language).fixed(name, params)
        return Sentence(said.text, said.pieces)

    def pages(self, reply: Reply) -> list[range]:
        # Page plans must not depend on the language (the keypad reads without knowing it),
        # so every line and option costs what the slowest language takes to say it.
        codes = tuple(self._sayers)

        def cost(say: Callable[[Sayer], Said]) -> float:
            return max(self._seconds(code, say(self._sayers[code]).text) for code in codes)

        header = max(self._nav_seconds["hint.no_input"], self._nav_seconds["hint.invalid"])
        for line in reply.prompt:
            header += cost(lambda sayer: sayer.line(line))  # noqa: B023 (called at once)
        costs = []
        for option in reply.options:
            costs.append(cost(lambda sayer: sayer.option(option.label, 1)))  # noqa: B023

        def fits(page: int, start: int, stop: int, more: bool) -> bool:
            nav = self._nav_seconds["nav.repeat"]
            nav += self._nav_seconds["nav.more"] if more else 0
            nav += self._nav_seconds["nav.back"] if reply.can_back or page > 0 else 0
            spoken = header + sum(costs[start:stop]) + nav
            return stop - start <= MAX_KEYS and spoken <= PLANNED_SECONDS

        return split_pages(len(reply.options), fits)

    def _seconds(self, language: str, text: str) -> float:
        speech = self._sayers[language].speech
        return (speech.pace if speech is not None else ENGLISH_PACE).seconds(text)

    def render(self, reply: Reply, language: str) -> tuple[Sentence, ...]:
        """Return what to say for `reply` (at `reply.page`) in `language`."""
        sayer = self.sayer(language)
        said = [_sentence(sayer.line(line)) for line in reply.prompt]
        if reply.end:
            return tuple(said)
        if reply.input_kind == "digits":
            said.append(self.say(language, "digits.finish"))
            if reply.can_back:
                said.append(self.say(language, "nav.back"))
            return tuple(said)
        pages = self.pages(reply)
        page = min(max(reply.page, 0), len(pages) - 1)
        for n, index in enumerate(pages[page], start=1):
            said.append(_sentence(sayer.option(reply.options[index].label, n)))
        if page + 1 < len(pages):
            said.append(self.say(language, "nav.more"))
        if reply.can_back or page > 0:
            said.append(self.say(language, "nav.back"))
        said.append(self.say(language, "nav.repeat"))
        return tuple(said)

    def read(self, raw: str, reply: Reply) -> Key:
        typed = raw.strip()
        if reply.end:
            return Invalid()
        if typed.endswith(FINISH_KEY):
            typed = typed[: -len(FINISH_KEY)]  # Africa's Talking passes the finishing key on
        pages = self.pages(reply)
        page = min(max(reply.page, 0), len(pages) - 1)
        if typed == BACK_KEY:
            return Nav("back") if page > 0 or reply.can_back else Invalid()
        if reply.input_kind == "digits":
            return Entry(typed) if _DIGITS.fullmatch(typed) else Invalid()
        if typed == REPEAT_KEY:
            return Nav("repeat")
        if typed == MORE_KEY:
            return Nav("more") if page + 1 < len(pages) else Invalid()
        if len(typed) == 1 and typed in _OPTION_KEYS:
            index = pages[page].start + int(typed) - 1
            if index < pages[page].stop:
                return Pick(reply.options[index].id)
        return Invalid()


def _sentence(said: Said) -> Sentence:
    return Sentence(spoken(said.text), said.pieces)
