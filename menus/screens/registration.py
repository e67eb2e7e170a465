"""Real-name registration: a hospital that books by name and national ID asks for what the
person lacks, once, while the time chosen is held, then confirms.

The core holds the place and says what the person lacks (`HoldView.lacks`); the booking
screens then come here with the chosen slot (and so does a booking the core refused with
`registration_required`, say after the desk moved the ID away). Each answer is stored by the core at once (the ID
only as a keyed hash), so the session keeps nothing personal and a caller who is asked again
(a wrong ID form, a name that is no name) loses nothing. A phone's holder gives a full name
and an ID; a dependant a birth year first, then an ID only if they are 18 or older.

Voice: a caller id can be forged, so anything is stored only once the SMS code has proven the
phone; and a name cannot be keyed on a keypad, so a caller whose person lacks one is told to
register by USSD or at the hospital desk.
"""

from __future__ import annotations

from menus.context import Context
from menus.flow import Go, Screen, Skip, View
from menus.ports import Refused
from menus.screens.booking import AFTER_BOOKING_REFUSAL, REGISTER
from menus.screens.persons import PERSON_NAME, chosen_person, said
from menus.screens.voice_privacy import AFTER_PROOF, on_voice, phone_proven

NAME, YEAR, NATIONAL_ID, DESK = "register_name", "register_year", "register_id", "register_desk"
# What the core says a person lacks, and the screen that asks for it.
_ASKS = {"name": NAME, "birth_year": YEAR, "national_id": NATIONAL_ID}
HOLD = "hold"  # the router's option once nothing is lacking: hold the chosen time
YEAR_DIGITS = 4


def _show_router(ctx: Context) -> Skip:
    lacks = ctx.port.registration_needs(ctx.phone, chosen_person(ctx))
    return Skip(lacks[0] if lacks else HOLD)


def _act_router(ctx: Context, lacking: str) -> Go:
    """Ask for what is lacking (over voice, once the phone is proven), or hold the time."""
    if lacking == HOLD:
        slot = ctx.chosen("slot")
        held = ctx.current_hold()
        if held is None or held.slot_id != slot:  # the hold ran out while the caller typed
            held = ctx.port.hold(ctx.phone, ctx.session.key, slot, chosen_person(ctx))
            ctx.learnt_hold(held)
        return Go("confirm")
    screen = _ASKS.get(lacking)
    if screen is None:  # the core lacks something no screen can ask: the desk can
        raise Refused("registration_required")
    if on_voice(ctx):
        if screen == NAME:
            # No name can be keyed: the held place goes back to others at once.
            ctx.port.release_hold(ctx.phone)
            ctx.learnt_hold(None)
            return Go(DESK)
        if not phone_proven(ctx):
            ctx.port.send_code(ctx.phone)
            ctx.session.chosen[AFTER_PROOF] = REGISTER
            return Go("code")
    return Go(screen)


def _person(ctx: Context) -> str | None:
    return said(ctx, ctx.session.chosen.get(PERSON_NAME))


def _show_name(ctx: Context) -> View:
    return View((ctx.t("register.name"),), input_kind="text")


def _act_name(ctx: Context, typed: str) -> Go:
    try:
        _store(ctx, name=typed)
    except Refused as refused:
        if refused.code != "invalid_registration":
            raise
        return Go(NAME, notice=ctx.t("register.name_wrong"))
    return Go(REGISTER)


def _show_year(ctx: Context) -> View:
    return View((ctx.t("register.year", person=_person(ctx)),), input_kind="digits")


def _act_year(ctx: Context, digits: str) -> Go:
    wrong = Go(YEAR, notice=ctx.t("register.year_wrong"))
    if len(digits) != YEAR_DIGITS:
        return wrong
    try:
        _store(ctx, birth_year=int(digits))
    except Refused as refused:
        if refused.code != "invalid_registration":
            raise
        return wrong
    return Go(REGISTER)


def _show_id(ctx: Context) -> View:
    person = _person(ctx)
    line = ctx.t("register.id") if person is None else ctx.t("register.id_person", person=person)
    return View((line,), input_kind="digits")


def _act_id(ctx: Context, digits: str) -> Go:
    try:
        _store(ctx, national_id=digits)
    except Refused as refused:
        if refused.code != "invalid_registration":
            raise
        return Go(NATIONAL_ID, notice=_id_expected(ctx, refused))
    return Go(REGISTER)


def _id_expected(ctx: Context, refused: Refused) -> str:
    """Say what an ID looks like here: its digits when the core names them."""
    low, high = refused.params.get("min_digits"), refused.params.get("max_digits")
    if low is None or high is None:
        return ctx.t("register.id_wrong")
    if low == high:
        return ctx.t("register.id_exact", digits=low)
    return ctx.t("register.id_digits", min_digits=low, max_digits=high)


def _store(
    ctx: Context,
    name: str | None = None,
    birth_year: int | None = None,
    national_id: str | None = None,
) -> None:
    if not phone_proven(ctx):  # checked again where it matters: the one act that writes
        raise Refused("not_owner")
    ctx.port.register_person(ctx.phone, chosen_person(ctx), name, birth_year, national_id)


def _show_desk(ctx: Context) -> View:
    text = ctx.t("register.desk", shortcode=ctx.config.shortcode)
    return View((text,), input_kind="none", end=True)


# An ID on another phone, or a holder registered with another ID: only the desk can help,
# and the main menu says so (the refusal's own line).
SCREENS = (
    Screen(
        REGISTER,
        _show_router,
        _act_router,
        leads_to=frozenset({"confirm", "code", DESK, *_ASKS.values()}),
        # A refused hold goes where the booking screens send it (another time, another day).
        after_refusal=AFTER_BOOKING_REFUSAL,
    ),
    Screen(NAME, _show_name, _act_name, leads_to=frozenset({NAME, REGISTER})),
    Screen(YEAR, _show_year, _act_year, leads_to=frozenset({YEAR, REGISTER})),
    Screen(NATIONAL_ID, _show_id, _act_id, leads_to=frozenset({NATIONAL_ID, REGISTER})),
    Screen(DESK, _show_desk),
)
