"""Run the flow one input at a time: `Engine.step(session, input) -> Reply`.

The engine knows no channel: a `Keypad` (the USSD renderer by default) says what the raw input
means on the screen the caller sees, and the engine moves through the screen table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from menus.catalogue import Catalogue
from menus.context import Context, EngineConfig
from menus.flow import Finish, Flow, FlowError, Go, Screen, Skip, View
from menus.keys import Entry, Invalid, Keypad, Nav, Pick
from menus.ports import BookingPort, Refused
from menus.refusals import refusal_code, refusal_line
from menus.reply import Reply
from menus.screens import build_flow
from menus.screens.persons import said_refusal
from menus.session import Session
from menus.ussd import UssdRenderer

# Redirects and skips within one hop; more means the table loops.
_MAX_MOVES = 16


class Engine:
    """Answer each hop of a conversation; one engine serves every session of a channel."""

    def __init__(
        self,
        port: BookingPort,
        catalogues: Mapping[str, Catalogue],
        config: EngineConfig,
        keypad: Keypad | None = None,
        flow: Flow | None = None,
    ) -> None:
        if config.default_language not in catalogues:
            raise ValueError(f"no catalogue for default language {config.default_language!r}")
        self.port = port
        self.catalogues = catalogues
        self.config = config
        self.keypad: Keypad = keypad or UssdRenderer()
        self.flow = flow or build_flow()

    def step(self, session: Session, text_input: str | None) -> Reply:
        """Apply one input (None: the first hop, or no input) and return the screen to show."""
        ctx = Context(self.port, session, self.catalogues, self.config)
        if session.shown is not None and session.shown.end:
            return session.shown
        if session.state not in self.flow or session.language not in self.catalogues:
            return self._start(ctx)
        current = self._current(session)
        if text_input is None:
            return current
        session.inputs += 1
        key = self.keypad.read(text_input, current)
        if isinstance(key, Pick):
            return self._act(ctx, self.flow[current.screen], key.option_id, push=True)
        if isinstance(key, Entry):
            return self._act(ctx, self.flow[current.screen], key.text, push=True)
        if isinstance(key, Nav):
            return self._navigate(ctx, key, current)
        assert isinstance(key, Invalid)
        return replace(current, error=True)

    def failure_reply(self, language: str | None = None) -> Reply:
        """Return the polite closing screen an adapter shows when anything fails."""
        cat = self.catalogues.get(language or "", self.catalogues[self.config.default_language])
        return Reply("failure", (cat.text("error.failure"),), input_kind="none", end=True)

    def _start(self, ctx: Context) -> Reply:
        session = ctx.session
        informed = True  # the core unavailable: no notice rather than no menu
        session.blocked_until = None  # the core refuses at the booking, if it must
        try:
            caller = self.port.caller(session.phone)
            language, informed = caller.language, caller.informed
            session.household = caller.household
            until = caller.blocked_until
            session.blocked_until = until.isoformat() if until is not None else None
            ctx.learnt_hold(caller.hold)
        except Refused:
            language = None
        if language is None or language not in self.catalogues:
            language = self.config.default_language
        session.language = language
        session.state, session.shown, session.page = None, None, 0
        session.stack.clear()
        session.chosen.clear()
        return self._enter(replace(ctx, informed=informed), self.flow.start, None, 0)

    def _current(self, session: Session) -> Reply:
        assert session.shown is not None
        return replace(session.shown, page=session.page)

    def _navigate(self, ctx: Context, key: Nav, current: Reply) -> Reply:
        session = ctx.session
        if key.to == "more":
            session.page += 1
        elif key.to == "back" and session.page > 0:
            session.page -= 1
        elif key.to == "back":
            return self._enter(ctx, session.stack.pop(), None, 0)
        elif key.to == "home":
            return self._go(ctx, self.flow.main, None, None, 0)
        return self._current(session)

    def _act(
        self,
        ctx: Context,
        screen: Screen,
        value: str,
        push: bool,
        notice: str | None = None,
        moves: int = 0,
    ) -> Reply:
        try:
            outcome = screen.act(ctx, value)
        except Refused as refused:
            return self._refused(ctx, screen, refused, moves, showing=False)
        self._check_target(screen, outcome.screen if isinstance(outcome, Finish) else outcome.to)
        if isinstance(outcome, Finish):
            return self._finish(ctx, outcome)
        # Asking the same screen again (a wrong code) leaves Back where it was.
        origin = screen.name if push and outcome.to != screen.name else None
        return self._go(ctx, outcome.to, outcome.notice or notice, origin, moves + 1)

    def _go(
        self, ctx: Context, target: str, notice: str | None, origin: str | None, moves: int
    ) -> Reply:
        """Move to `target`; Back will return to `origin` (None: to where it would anyway)."""
        stack = ctx.session.stack
        if target == self.flow.main:
            stack.clear()
        elif target in stack:
            # Going to a screen already behind the caller is going back to it.
            del stack[stack.index(target) :]
        elif origin is not None:
            stack.append(origin)
        return self._enter(ctx, target, notice, moves)

    def _enter(self, ctx: Context, name: str, notice: str | None, moves: int) -> Reply:
        if moves > _MAX_MOVES:
            raise FlowError(f"too many redirects, last at {name!r}")
        screen = self.flow[name]
        try:
            shown = screen.show(ctx)
        except Refused as refused:
            return self._refused(ctx, screen, refused, moves, showing=True)
        if isinstance(shown, Skip):
            return self._act(ctx, screen, shown.option_id, False, notice, moves + 1)
        if isinstance(shown, Go):
            self._check_target(screen, shown.to)
            return self._go(ctx, shown.to, shown.notice or notice, None, moves + 1)
        return self._show(ctx, screen, shown, notice)

    def _refused(
        self, ctx: Context, screen: Screen, refused: Refused, moves: int, showing: bool
    ) -> Reply:
        if screen.name == self.flow.main:
            raise FlowError("the main menu must not depend on the booking core")
        code = refusal_code(refused)
        target = screen.refusal_target(code)
        if showing and target == screen.name:
            # Refused while showing this very screen: it would be refused again.
            target = self.flow.main
        line = refusal_line(ctx.cat, said_refusal(ctx, refused), self._chosen_day(ctx))
        return self._go(ctx, target, line, None, moves + 1)

    def _show(self, ctx: Context, screen: Screen, view: View, notice: str | None) -> Reply:
        session = ctx.session
        reply = Reply(
            screen=screen.name,
            prompt=((notice,) if notice else ()) + view.lines,
            options=view.options,
            input_kind=view.input_kind,
            end=view.end,
            more=ctx.t("nav.more"),
            back=ctx.t("nav.back"),
            home=ctx.t("nav.home"),
            can_back=bool(session.stack) and not view.end,
            can_home=screen.home and not view.end,
            invalid=ctx.t("error.invalid"),
            waits=view.waits,
        )
        session.state, session.shown, session.page = screen.name, reply, 0
        return reply

    def _finish(self, ctx: Context, finish: Finish) -> Reply:
        reply = Reply(finish.screen, finish.lines, input_kind="none", end=True)
        ctx.session.state, ctx.session.shown, ctx.session.page = finish.screen, reply, 0
        return reply

    def _check_target(self, screen: Screen, target: str) -> None:
        if target not in screen.targets():
            raise FlowError(f"{screen.name} went to undeclared {target!r}")

    @staticmethod
    def _chosen_day(ctx: Context) -> date | None:
        day = ctx.session.chosen.get("day")
        return date.fromisoformat(day) if day else None
