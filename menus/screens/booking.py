"""Booking: city, hospital, department, day, time, confirm.

The department list names every department (the caller picks from the public catalogue), but
once one is chosen a voice call never says a sensitive one's name again ("your clinic").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import MappingProxyType

from menus.context import Context
from menus.flow import Finish, Go, Screen, Skip, View
from menus.formats import clock, group_tcode
from menus.ports import BookingView, Choice, Refused
from menus.reply import Option
from menus.screens.persons import PERSON_NAME, chosen_person, said
from menus.screens.voice_privacy import department_said

# Where a refused hold or booking leads: another time of the same day when the place itself
# is gone, another day when the caller may not book that day. Anything else (blocked,
# unavailable...) goes to the main menu; `registration_required` never gets here: the time
# chosen is kept and the real-name screens ask what the person lacks (_register).
AFTER_BOOKING_REFUSAL = MappingProxyType(
    {
        "slot_full": "slot",
        "hold_expired": "slot",
        "slot_started": "slot",
        "not_found": "slot",
        "limit_per_day": "day",
        "department_same_day": "day",
        "outside_horizon": "day",
        "voice_full": "day",
    }
)


# The real-name registration screens (menus.screens.registration), entered with the slot
# chosen; they hold it once the person is registered, and go on to "confirm".
REGISTER = "register"
REGISTRATION_REQUIRED = "registration_required"


def _level(name: str, title: str, choices: Callable[[Context], list[Choice]], nxt: str) -> Screen:
    """Build a catalogue level (city, hospital, department): skipped when there is one."""

    def show(ctx: Context) -> View | Skip:
        found = choices(ctx)
        if len(found) == 1:
            return Skip(found[0].id)
        if not found:
            return View((ctx.t("book.nothing"),))
        return View((ctx.t(title),), tuple(Option(c.id, c.label) for c in found))

    def act(ctx: Context, choice_id: str) -> Go:
        ctx.session.chosen[name] = choice_id
        return Go(nxt)

    return Screen(name, show, act, leads_to=frozenset({nxt}))


def _show_day(ctx: Context) -> View:
    days = ctx.port.open_days(ctx.chosen("department"))
    if not days:
        return View((ctx.t("book.no_days"),))
    return View((ctx.t("book.day"),), tuple(Option(d.isoformat(), ctx.cat.day(d)) for d in days))


def _act_day(ctx: Context, iso_day: str) -> Go:
    ctx.session.chosen["day"] = iso_day
    return Go("slot")


def _show_slot(ctx: Context) -> View | Go:
    day = date.fromisoformat(ctx.chosen("day"))
    slots = ctx.port.free_slots(ctx.chosen("department"), day)
    if not slots:
        return Go("day", notice=ctx.t("book.day_full"))
    options = tuple(
        Option(s.id, ctx.t("book.slot_option", time=clock(s.starts_at), places=s.places_left))
        for s in slots
    )
    return View((ctx.t("book.slot", day=ctx.cat.day(day)),), options)


def _act_slot(ctx: Context, slot_id: str) -> Go:
    try:
        held = ctx.port.hold(ctx.phone, ctx.session.key, slot_id, chosen_person(ctx))
    except Refused as refused:
        return _register(ctx, slot_id, refused)
    ctx.learnt_hold(held)
    ctx.session.chosen["slot"] = slot_id
    # Where the hospital books by real name, the place is held while the caller gives it.
    return Go(REGISTER if held.lacks else "confirm")


def _register(ctx: Context, slot_id: str, refused: Refused) -> Go:
    """Ask for the name and ID the hospital books by, keeping the time chosen; re-raise any
    other refusal."""
    if refused.code != REGISTRATION_REQUIRED:
        raise refused
    ctx.session.chosen["slot"] = slot_id
    return Go(REGISTER)


def _show_confirm(ctx: Context) -> View:
    hold = ctx.current_hold()
    if hold is None or hold.slot_id != ctx.session.chosen.get("slot"):
        raise Refused("hold_expired")
    # Date, time and hold on one line: with the longest names every line counts. A
    # dependant's name takes the hold's end and the weekday's room.
    person = said(ctx, ctx.session.chosen.get(PERSON_NAME))
    if person is None:
        held = ctx.t("confirm.held", when=ctx.cat.when(hold.starts_at), time=clock(hold.expires_at))
    else:
        held = ctx.t("confirm.for", person=person, when=ctx.cat.short_when(hold.starts_at))
    lines = (department_said(ctx, hold.department, hold.sensitive), hold.hospital, held)
    return View(lines, (Option("confirm", ctx.t("confirm.ok")),))


def _act_confirm(ctx: Context, option_id: str) -> Finish | Go:
    # One key per session: a confirm sent twice (a provider retry) books once.
    key = f"{ctx.session.key}:book"
    slot, channel = ctx.chosen("slot"), ctx.config.channel
    try:
        booking = ctx.port.book(ctx.phone, slot, channel, key, chosen_person(ctx))
    except Refused as refused:  # registered when held, but no longer (an ID moved at the desk)
        return _register(ctx, slot, refused)
    return booked(ctx, booking)


def booked(ctx: Context, booking: BookingView) -> Finish:
    """The closing screen of a booking made: what, where, when and its T-code."""
    department = department_said(ctx, booking.department, booking.sensitive)
    tcode = ctx.t("booked.tcode", tcode=group_tcode(booking.tcode))
    person = said(ctx, booking.person)
    if person is None:
        when = ctx.cat.when(booking.starts_at)
        lines = (ctx.t("booked.title"), department, booking.hospital, when, tcode)
        return Finish("booked", (*lines, ctx.t("booked.hint")))
    # The name takes the room of the weekday and of the hint (the SMS comes all the same).
    when = ctx.cat.short_when(booking.starts_at)
    lines = (ctx.t("booked.for", person=person), department, booking.hospital, when, tcode)
    return Finish("booked", lines)


SCREENS = (
    _level("city", "book.city", lambda ctx: ctx.port.cities(), "hospital"),
    _level(
        "hospital",
        "book.hospital",
        lambda ctx: ctx.port.hospitals(ctx.chosen("city")),
        "department",
    ),
    _level(
        "department",
        "book.department",
        lambda ctx: ctx.port.departments(ctx.chosen("hospital")),
        "day",
    ),
    Screen("day", _show_day, _act_day, leads_to=frozenset({"slot"})),
    Screen(
        "slot",
        _show_slot,
        _act_slot,
        leads_to=frozenset({"day", "confirm", REGISTER}),
        after_refusal=AFTER_BOOKING_REFUSAL,
    ),
    Screen(
        "confirm",
        _show_confirm,
        _act_confirm,
        leads_to=frozenset({"booked", REGISTER}),
        after_refusal=AFTER_BOOKING_REFUSAL,
    ),
)
