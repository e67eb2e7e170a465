"""Read USSD screens the way a caller does: the numbered options, and whether it ends."""

from __future__ import annotations

import re
from dataclasses import dataclass

OPTION = re.compile(r"^(\d{1,3}) (.+)$")
NAV_KEYS = {"98", "0", "00"}
SLOT_LABEL = re.compile(r"^\d\d:\d\d \(\d+ left\)$")
USSD_LIMIT = 160


@dataclass(frozen=True)
class Screen:
    prefix_ok: bool  # starts with "CON " or "END "
    too_long: bool  # more than the 160 characters of a USSD screen (prefix excluded)
    end: bool
    lines: tuple[str, ...]
    options: tuple[tuple[str, str], ...]  # (number to type, label), navigation left out

    def has_line(self, fragment: str) -> bool:
        return any(fragment in line for line in self.lines)

    def option(self, label: str) -> str | None:
        return next((n for n, text in self.options if text == label), None)

    def options_starting(self, prefix: str) -> list[str]:
        return [n for n, text in self.options if text.startswith(prefix)]

    @property
    def is_slot_list(self) -> bool:
        return bool(self.options) and all(SLOT_LABEL.match(text) for _, text in self.options)

    @property
    def is_apology(self) -> bool:
        """The polite END that the hook gives on an internal failure: `… (ref abcdefgh)`."""
        return self.end and bool(
            re.search(r"\(ref [a-z]{8}\)$", self.lines[-1] if self.lines else "")
        )


def parse(body: str) -> Screen:
    if body.startswith("CON "):
        end = False
    elif body.startswith("END "):
        end = True
    else:
        return Screen(False, False, True, (), ())
    text = body[4:]
    lines = tuple(text.split("\n"))
    options = []
    for line in lines:
        m = OPTION.match(line)
        if m and m[1] not in NAV_KEYS:
            options.append((m[1], m[2]))
    return Screen(True, len(text) > USSD_LIMIT, end, lines, tuple(options))
