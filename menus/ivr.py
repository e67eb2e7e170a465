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
from collections.abc import Mapping
from dataclasses import dataclass

from menus.catalogue import REFERENCE, Catalogue
from menus.keys import Entry, Invalid, Key, Nav, Pick
from menus.paging import split_pages
from menus.reply import Reply
from menus.voice import VoiceCatalogue

MAX_KEYS = 8
MORE_KEY, BACK_KEY, REPEAT_KEY, FINISH_KEY = "9", "*", "0", "#"
WORDS_PER_MINUTE = 150
MAX_SECONDS = 40
# Under 40 seconds, with room for the pauses a voice makes between sentences.
MAX_WORDS = MAX_SECONDS * WORDS_PER_MINUTE // 60 - 5
_DIGITS = re.compile(r"[0-9]{1,32}")
_GROUPED_TCODE = re.compile(r"\b(\d{3}) (\d{3}) (\d{4})\b")
_OPTION_KEYS = "12345678"


@dataclass(frozen=True)
class Sentence:
    text: str
    key: str | None = None  # the prompt key when the sentence is fixed (a recording may replace it)


def words(text: str) -> int:
    """Count spoken words the way the 40-second budget does: whitespace-separated pieces."""
    return len(text.split())


def spoken(line: str) -> str:
    """Return a screen line as a sentence: T-codes digit by digit, a full stop at the end."""
    text = _GROUPED_TCODE.sub(lambda m: ", ".join(" ".join(g) for g in m.groups()), line.strip())
    return text if text.endswith((".", "!", "?")) else text + "."


class IvrRenderer:
    """Lay out replies as sentences and read key presses; one page plan for both jobs."""

    def __init__(
        self, voices: Mapping[str, VoiceCatalogue], screens: Mapping[str, Catalogue]
    ) -> None:
        if REFERENCE not in voices:
            raise ValueError(f"no voice catalogue for {REFERENCE!r}")
        self.voices = voices
        # Screen texts without placeholders, by text: a line or label equal to one is fixed.
        self._fixed = {code: _fixed_texts(cat) for code, cat in screens.items()}
        # Page plans must not depend on the language (the keypad reads without knowing it),
        # so they count the wordiest language's frame.
        self._option_words = max(
            _frame_words(v.text("option", label="", key=1)) for v in voices.values()
        )
        self._nav_words = {
            key: max(words(v.text(key)) for v in voices.values())
            for key in ("nav.more", "nav.back", "nav.repeat", "hint.no_input", "hint.invalid")
        }

    def voice(self, language: str) -> VoiceCatalogue:
        return self.voices.get(language) or self.voices[REFERENCE]

    def say(self, language: str, name: str, /, **params: object) -> Sentence:
        """Return a sentence of the voice catalogue, keyed when it has no placeholders."""
        text = self.voice(language).text(name, **params)
        return Sentence(text, None if params else f"voice.{name}")

    def fixed_sentences(self, language: str) -> dict[str, str]:
        """Return the screen texts said the same on every call, by prompt key."""
        return {
            f"screen.{key}": spoken(text) for text, key in self._fixed.get(language, {}).items()
        }

    def pages(self, reply: Reply) -> list[range]:
        header = sum(words(spoken(line)) for line in reply.prompt)
        header += max(self._nav_words["hint.no_input"], self._nav_words["hint.invalid"])
        costs = [words(o.label) + self._option_words for o in reply.options]

        def fits(page: int, start: int, stop: int, more: bool) -> bool:
            nav = self._nav_words["nav.repeat"]
            nav += self._nav_words["nav.more"] if more else 0
            nav += self._nav_words["nav.back"] if reply.can_back or page > 0 else 0
            return stop - start <= MAX_KEYS and header + sum(costs[start:stop]) + nav <= MAX_WORDS

        return split_pages(len(reply.options), fits)

    def render(self, reply: Reply, language: str) -> tuple[Sentence, ...]:
        """Return what to say for `reply` (at `reply.page`) in `language`."""
        fixed = self._fixed.get(language, {})
        said = [Sentence(spoken(line), _key("screen", fixed.get(line))) for line in reply.prompt]
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
            label = reply.options[index].label
            text = self.voice(language).text("option", label=label, key=n)
            said.append(Sentence(text, _key("option", fixed.get(label), n)))
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


def _fixed_texts(cat: Catalogue) -> dict[str, str]:
    fixed: dict[str, str] = {}
    for key in sorted(cat.texts):
        text = cat.texts[key]
        if isinstance(text, str) and "{" not in text and not key.startswith("calendar."):
            fixed.setdefault(text, key)
    return fixed


def _frame_words(frame: str) -> int:
    # "For , press 1." says every word of the frame around an empty label.
    return len([w for w in frame.split() if w.strip(",.;:")])


def _key(kind: str, text_key: str | None, n: int | None = None) -> str | None:
    if text_key is None:
        return None
    return f"{kind}.{text_key}" if n is None else f"{kind}.{text_key}.{n}"
