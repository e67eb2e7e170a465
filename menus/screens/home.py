"""The main menu and the screens around it: resume a held place, language, help.

A caller who never booked (the core recorded no consent) is told once, on the session's first
screen, what is kept about them and how to learn more (HELP by SMS tells the rest).
"""

from __future__ import annotations

from menus.context import Context
from menus.flow import Go, Screen, View
from menus.ports import Refused
from menus.reply import Option
from menus.screens.persons import choose_by_id
from menus.screens.voice_privacy import department_said, on_voice

# (option id, catalogue key of its label, screen it opens), in the order shown. New options
# go last: callers and scripts know the numbers of the others.
_MAIN_MENU = (
    ("book", "main.book", "person"),
    ("mine", "main.mine", "appointments"),
    ("language", "main.language", "language"),
    ("help", "main.help", "help"),
    ("family", "main.family", "family"),
)
# Adding a dependant needs a keypad for the name, so voice callers only choose among
# the persons "Book" offers them.
_NOT_ON_VOICE = frozenset({"family"})


def _show_main(ctx: Context) -> View:
    hidden = _NOT_ON_VOICE if on_voice(ctx) else frozenset()
    options = tuple(
        Option(option_id, ctx.t(key)) for option_id, key, _ in _MAIN_MENU if option_id not in hidden
    )
    return View((ctx.t("main.title"),), options)


def _act_main(ctx: Context, option_id: str) -> Go:
    return Go(next(target for oid, _, target in _MAIN_MENU if oid == option_id))


def _show_resume(ctx: Context) -> View | Go:
    hold = ctx.current_hold()
    if hold is None:
        return Go("main", notice=_privacy_notice(ctx))
    # A held place means an earlier session of this caller, whose first screen said the notice:
    # the resume question keeps all its room for the held time and department.
    department = department_said(ctx, hold.department, hold.sensitive)
    label = ctx.t("resume.continue", when=ctx.cat.when(hold.starts_at), department=department)
    options = (Option("continue", label), Option("restart", ctx.t("resume.restart")))
    return View((ctx.t("resume.title"),), options)


def _privacy_notice(ctx: Context) -> str | None:
    """The privacy line for a caller who never booked, above the main menu; None otherwise."""
    if ctx.informed:
        return None
    return ctx.t("privacy.voice" if on_voice(ctx) else "privacy.notice")


def _act_resume(ctx: Context, option_id: str) -> Go:
    if option_id == "restart":
        ctx.port.release_hold(ctx.phone)
        ctx.learnt_hold(None)
        return Go("main")
    hold = ctx.current_hold()
    if hold is None:
        raise Refused("hold_expired")
    # What the booking screens would have chosen, so a lost place can offer that day's times
    # and the booking is for the person the place is held for.
    ctx.session.chosen.update(
        department=hold.department_id,
        day=hold.starts_at.date().isoformat(),
        slot=hold.slot_id,
    )
    choose_by_id(ctx, hold.person_id)
    return Go("confirm")


def _show_language(ctx: Context) -> View:
    options = tuple(Option(code, cat.name) for code, cat in ctx.catalogues.items())
    return View((ctx.t("language.title"),), options)


def _act_language(ctx: Context, code: str) -> Go:
    ctx.port.set_language(ctx.phone, code)
    ctx.session.language = code
    return Go("main", notice=ctx.t("language.saved"))


def _show_help(ctx: Context) -> View:
    text = ctx.t("help.text", shortcode=ctx.config.shortcode)
    return View((text,), input_kind="none", end=True)


SCREENS = (
    Screen(
        "main",
        _show_main,
        _act_main,
        leads_to=frozenset(target for _, _, target in _MAIN_MENU),
        home=False,
    ),
    # Shown on the first hop of every session; it steps aside when nothing is on hold.
    Screen(
        "resume",
        _show_resume,
        _act_resume,
        leads_to=frozenset({"main", "confirm"}),
        home=False,
    ),
    Screen("language", _show_language, _act_language, leads_to=frozenset({"main"})),
    Screen("help", _show_help),
)
