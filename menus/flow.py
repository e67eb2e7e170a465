"""The pieces a flow is built from: screens in a table, and what showing or acting returns.

A screen's `show` only reads (it is the guard: it may decide to skip the screen or send the
caller elsewhere, but changes nothing). Its `act` runs when the caller picks an option and is
the one place with side effects (hold, book, cancel, set language).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from menus.reply import InputKind, Option

if TYPE_CHECKING:
    from menus.context import Context


class FlowError(Exception):
    """The flow table is inconsistent (a programming error, found when it is built or run)."""


@dataclass(frozen=True)
class View:
    """What a screen shows: prompt lines, options, and whether the session ends."""

    lines: tuple[str, ...]
    options: tuple[Option, ...] = ()
    input_kind: InputKind = "choice"
    end: bool = False
    # Seconds a voice caller may stay silent here without it counting as a miss (waiting
    # for an SMS); 0: the usual rule, three misses in a row end the call.
    waits: int = 0


@dataclass(frozen=True)
class Go:
    """Move to screen `to`, with an optional notice line shown on top of it."""

    to: str
    notice: str | None = None


@dataclass(frozen=True)
class Skip:
    """The screen has a single choice: act on it without asking."""

    option_id: str


@dataclass(frozen=True)
class Finish:
    """End the session on a closing screen built by the action (booking summary, etc.)."""

    screen: str
    lines: tuple[str, ...]


Show = Callable[["Context"], View | Go | Skip]
Act = Callable[["Context", str], Go | Finish]


def _no_action(ctx: Context, value: str) -> Go | Finish:
    raise FlowError("this screen offers nothing to pick")


@dataclass(frozen=True)
class Screen:
    name: str
    show: Show
    act: Act = _no_action
    # Every screen or closing screen that show/act may lead to; checked when the flow is
    # built and again at run time, so a typo fails a test instead of a caller.
    leads_to: frozenset[str] = frozenset()
    # Where a refusal of the core (by code) takes the caller, with the refusal as notice.
    after_refusal: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    refusal_default: str = "main"
    home: bool = True  # offer Home (not on the main menu itself, nor on the resume question)

    def refusal_target(self, code: str) -> str:
        return self.after_refusal.get(code, self.refusal_default)

    def targets(self) -> frozenset[str]:
        return self.leads_to | frozenset(self.after_refusal.values()) | {self.refusal_default}


class Flow:
    """The screen table, checked once: every target exists and every screen is reachable."""

    def __init__(
        self, screens: Iterable[Screen], finishes: Iterable[str], start: str, main: str
    ) -> None:
        self.screens = {screen.name: screen for screen in screens}
        self.finishes = frozenset(finishes)
        self.start = start
        self.main = main
        self._check()

    def __getitem__(self, name: str) -> Screen:
        return self.screens[name]

    def __contains__(self, name: object) -> bool:
        return name in self.screens

    def _check(self) -> None:
        known = self.screens.keys() | self.finishes
        for screen in self.screens.values():
            if unknown := screen.targets() - known:
                raise FlowError(f"{screen.name} leads to unknown {sorted(unknown)}")
        for name in (self.start, self.main):
            if name not in self.screens:
                raise FlowError(f"no screen {name!r}")
        if unreachable := known - self._reachable():
            raise FlowError(f"unreachable from {self.start!r}: {sorted(unreachable)}")

    def _reachable(self) -> set[str]:
        seen, todo = set(), [self.start]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                if name in self.screens:
                    todo.extend(self.screens[name].targets())
        return seen
