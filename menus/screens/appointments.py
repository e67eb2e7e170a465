"""My appointments: open invitations first, then bookings; details with the T-code, cancel.

Over voice the caller id is only a claim (menus.screens.voice_privacy): the list and the
details read date, time and hospital, and the T-code and cancel wait until the caller has
proven the phone or the booking (menus.screens.proof). Over USSD the network vouches for the
caller: a booking made by voice shows that it is not confirmed yet, and one key keeps it.
"""

from __future__ import annotations

from menus.context import Context
from menus.flow import Finish, Go, Screen, View
from menus.formats import group_tcode
from menus.ports import BookingView, Refused
from menus.reply import Option
from menus.screens import invitations
from menus.screens.persons import said
from menus.screens.voice_privacy import (
    AFTER_PROOF,
    department_said,
    on_voice,
    phone_proven,
    proven,
)


def _show_list(ctx: Context) -> View:
    # Open invitations first: each waits for the citizen to choose a time before it expires.
    listed = (
        *invitations.options(ctx),
        *(_list_option(ctx, b) for b in ctx.port.upcoming(ctx.phone)),
    )
    if not listed:
        return View((ctx.t("mine.none"),))
    return View((ctx.t("mine.title"),), listed)


def _list_option(ctx: Context, b: BookingView) -> Option:
    """One booking of the phone's persons; a dependant's starts with their name."""
    when, person = ctx.cat.short_when(b.starts_at), said(ctx, b.person)
    if on_voice(ctx):
        key = "mine.voice_option" if person is None else "mine.voice_person_option"
        return Option(b.ref, ctx.t(key, when=when, hospital=b.hospital, person=person))
    key = "mine.option" if person is None else "mine.person_option"
    return Option(b.ref, ctx.t(key, when=when, department=b.department, person=person))


def _act_list(ctx: Context, ref: str) -> Go:
    if ref.startswith(invitations.PREFIX):
        ctx.session.chosen[invitations.INVITATION] = ref.removeprefix(invitations.PREFIX)
        if not phone_proven(ctx):
            # A forged caller id must not pick the time of the owner's invitation (the core
            # books it for good): the SMS code proves the phone first, then the days follow.
            ctx.port.send_code(ctx.phone)
            ctx.session.chosen[AFTER_PROOF] = "invitation_day"
            return Go("code")
        return Go("invitation_day")
    ctx.session.chosen["ref"] = ref
    return Go("appointment")


def chosen_booking(ctx: Context) -> BookingView:
    """Return the booking picked from the list, as the core sees it now."""
    # The port has no single-booking lookup; the list is short (a few per citizen).
    ref = ctx.chosen("ref")
    for booking in ctx.port.upcoming(ctx.phone):
        if booking.ref == ref:
            return booking
    raise Refused("not_found")


def _show_details(ctx: Context) -> View:
    booking = chosen_booking(ctx)
    when = ctx.cat.when(booking.starts_at)
    cancel = Option("cancel", ctx.t("mine.cancel"))
    lines: tuple[str, ...]
    if not proven(ctx, booking.ref):
        lines = (when, booking.hospital, ctx.t("proof.ask"))
        options = (
            Option("sms", ctx.t("proof.by_sms")),
            Option("tcode", ctx.t("proof.by_tcode")),
        )
        return View(lines, options)
    tcode = ctx.t("mine.tcode", tcode=group_tcode(booking.tcode))
    if on_voice(ctx):
        department = department_said(ctx, booking.department, booking.sensitive)
        return View((booking.hospital, when, department, tcode), (cancel,))
    if booking.unconfirmed:
        # No room for the hospital and T-code too; both show once the booking is kept.
        lines = (ctx.t("mine.unconfirmed"), booking.department, when)
        return View(lines, (Option("keep", ctx.t("mine.keep")), cancel))
    return View((booking.department, booking.hospital, when, tcode), (cancel,))


def _act_details(ctx: Context, option_id: str) -> Go:
    if option_id == "sms":
        ctx.port.send_code(ctx.phone)
        ctx.session.chosen.pop(AFTER_PROOF, None)  # an invitation left earlier: not its days
        return Go("code")
    if option_id == "tcode":
        return Go("tcode")
    if option_id == "keep":
        ctx.port.confirm_claim(ctx.phone, ctx.chosen("ref"))
        return Go("appointments", notice=ctx.t("mine.kept"))
    return Go("cancel")


def _show_cancel(ctx: Context) -> View | Go:
    booking = chosen_booking(ctx)
    if not proven(ctx, booking.ref):
        return Go("appointment")
    department = department_said(ctx, booking.department, booking.sensitive)
    title = ctx.t("cancel.title", department=department, when=ctx.cat.when(booking.starts_at))
    return View((title,), (Option("cancel", ctx.t("cancel.ok")),))


def _act_cancel(ctx: Context, option_id: str) -> Go | Finish:
    ref = ctx.chosen("ref")
    if not proven(ctx, ref):  # checked again where it matters: the one act that changes it
        return Go("appointment")
    booking = ctx.port.cancel(ctx.phone, ref)
    department = department_said(ctx, booking.department, booking.sensitive)
    detail = ctx.t("cancelled.detail", department=department, when=ctx.cat.when(booking.starts_at))
    return Finish("cancelled", (ctx.t("cancelled.title"), detail))


SCREENS = (
    Screen(
        "appointments",
        _show_list,
        _act_list,
        leads_to=frozenset({"appointment", "invitation_day", "code"}),
    ),
    # Any refusal about one booking (gone, deadline passed, too many codes...) returns to the
    # fresh list.
    Screen(
        "appointment",
        _show_details,
        _act_details,
        leads_to=frozenset({"cancel", "code", "tcode", "appointments"}),
        refusal_default="appointments",
    ),
    Screen(
        "cancel",
        _show_cancel,
        _act_cancel,
        leads_to=frozenset({"cancelled", "appointment"}),
        refusal_default="appointments",
    ),
)
