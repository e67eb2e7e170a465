"""Render replies as USSD text and read USSD input: numbered options, 160 GSM-7 characters.

The `CON `/`END ` prefix is the adapter's: `render` returns the text and whether it ends.
Options are numbered globally (page 2 goes on from where page 1 stopped), so a number always
means the same option; 0, 00 and 98 are kept for Back, Home and More.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from menus.gsm7 import bad_chars, gsm7_only
from menus.keys import Entry, Invalid, Key, Nav, Pick
from menus.paging import split_pages
from menus.reply import Reply

USSD_LIMIT = 160
MORE_KEY, BACK_KEY, HOME_KEY = "98", "0", "00"
_NUMBER = re.compile(r"[1-9][0-9]{0,5}")
_DIGITS = re.compile(r"[0-9]{1,32}")
_MIN_TEXT = 8  # a shortened line keeps at least this much, so it still says something


def option_number(index: int) -> int:
    """Return the number shown for the option at `index`, skipping the reserved 98."""
    number = index + 1
    return number if number < int(MORE_KEY) else number + 1


def option_index(typed: str) -> int | None:
    """Return the option index a typed number stands for, or None if it names no option."""
    if not _NUMBER.fullmatch(typed) or typed == MORE_KEY:
        return None
    number = int(typed)
    return number - 1 if number < int(MORE_KEY) else number - 2


@dataclass(frozen=True)
class UssdScreen:
    text: str  # what to send: within the limit, GSM-7 basic only
    end: bool
    natural_length: int  # length before any shortening; above the limit means text was cut
    bad_chars: str  # characters that had to be replaced by "?"


@dataclass
class _Line:
    prefix: str  # kept whole: "12 " before an option label, or a navigation line
    text: str  # may be shortened as a last resort
    shrinkable: bool = True

    def __str__(self) -> str:
        return self.prefix + self.text


class UssdRenderer:
    """Lay out replies for USSD and read what the caller typed; one limit for both jobs."""

    def __init__(self, limit: int = USSD_LIMIT) -> None:
        self.limit = limit

    def render(self, reply: Reply) -> tuple[str, bool]:
        screen = self.layout(reply)
        return screen.text, screen.end

    def pages(self, reply: Reply) -> list[range]:
        # The header costs whichever is longer: the prompt, or the error line that replaces
        # it when both do not fit. Page breaks then stay put when an error is shown.
        header = max(_cost([_Line("", p) for p in reply.prompt]), len(reply.invalid))
        options = _option_lines(reply)

        def fits(page: int, start: int, stop: int, more: bool) -> bool:
            lines = options[start:stop] + _nav_lines(reply, page, more)
            return header + 1 + _cost(lines) <= self.limit

        return split_pages(len(reply.options), fits)

    def layout(self, reply: Reply) -> UssdScreen:
        pages = self.pages(reply)
        page = min(max(reply.page, 0), len(pages) - 1)
        shown = pages[page]
        body = [_Line("", p) for p in reply.prompt] + _option_lines(reply)[shown.start : shown.stop]
        nav = _nav_lines(reply, page, page + 1 < len(pages))
        lines = self._with_error(reply, body, nav)
        natural = "\n".join(str(line) for line in lines)
        _shorten_to_fit(lines, self.limit)
        text = "\n".join(str(line) for line in lines)[: self.limit]
        return UssdScreen(gsm7_only(text), reply.end, len(natural), bad_chars(natural))

    def read(self, raw: str, reply: Reply) -> Key:
        typed = raw.strip()
        if reply.end:
            return Invalid()
        if typed == HOME_KEY and reply.can_home:
            return Nav("home")
        if typed == BACK_KEY and (reply.page > 0 or reply.can_back):
            return Nav("back")
        if typed == MORE_KEY and reply.page + 1 < len(self.pages(reply)):
            return Nav("more")
        if typed in (HOME_KEY, BACK_KEY, MORE_KEY):
            return Invalid()
        if reply.input_kind == "digits":
            return Entry(typed) if _DIGITS.fullmatch(typed) else Invalid()
        if reply.input_kind == "text":
            # Any words: the core says whether they make a valid name.
            return Entry(typed) if typed else Invalid()
        index = option_index(typed) if reply.input_kind == "choice" else None
        if index is None or index >= len(reply.options):
            return Invalid()
        return Pick(reply.options[index].id)

    def _with_error(self, reply: Reply, body: list[_Line], nav: list[_Line]) -> list[_Line]:
        if not reply.error:
            return body + nav
        lines = [_Line("", reply.invalid), *body, *nav]
        if _cost(lines) <= self.limit:
            return lines
        # Not enough room for both: the error line takes the place of the prompt.
        options = [line for line in body if line.prefix]
        return [_Line("", reply.invalid), *options, *nav]


def render_ussd(reply: Reply, limit: int = USSD_LIMIT) -> tuple[str, bool]:
    """Return (text, end) for `reply`; the adapter adds `CON ` or `END `."""
    return UssdRenderer(limit).render(reply)


def _option_lines(reply: Reply) -> list[_Line]:
    return [_Line(f"{option_number(i)} ", o.label) for i, o in enumerate(reply.options)]


def _nav_lines(reply: Reply, page: int, more: bool) -> list[_Line]:
    if reply.end:
        return []
    lines: list[_Line] = []
    if more:
        lines.append(_Line(f"{MORE_KEY} {reply.more}", "", shrinkable=False))
    if reply.can_back or page > 0:
        lines.append(_Line(f"{BACK_KEY} {reply.back}", "", shrinkable=False))
    if reply.can_home:
        lines.append(_Line(f"{HOME_KEY} {reply.home}", "", shrinkable=False))
    return lines


def _cost(lines: list[_Line]) -> int:
    return sum(len(str(line)) for line in lines) + max(len(lines) - 1, 0)


def _shorten_to_fit(lines: list[_Line], limit: int) -> None:
    # Last resort only: shorten the longest text first, so a long name gives way before a
    # short line like the T-code does.
    while (over := _cost(lines) - limit) > 0:
        candidates = [line for line in lines if line.shrinkable and len(line.text) > _MIN_TEXT]
        if not candidates:
            return
        longest = max(candidates, key=lambda line: len(line.text))
        longest.text = shorten(longest.text, max(len(longest.text) - over, _MIN_TEXT))


def shorten(text: str, width: int) -> str:
    """Cut `text` to at most `width` characters at a word boundary, ending with "."."""
    if len(text) <= width:
        return text
    if width < 2:
        return text[:width]
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-(") + "."
