"""My appointments: list, details with the T-code, cancel after a yes."""

from __future__ import annotations

from menus.context import Context
from menus.flow import Finish, Go, Screen, View
from menus.formats import group_tcode
from menus.ports import BookingView, Refused
from menus.reply import Option


def _show_list(ctx: Context) -> View:
    bookings = ctx.port.upcoming(ctx.phone)
    if not bookings:
        return View((ctx.t("mine.none"),))
    options = tuple(
        Option(
            b.ref,
            ctx.t("mine.option", when=ctx.cat.short_when(b.starts_at), department=b.department),
        )
        for b in bookings
    )
    return View((ctx.t("mine.title"),), options)


def _act_list(ctx: Context, ref: str) -> Go:
    ctx.session.chosen["ref"] = ref
    return Go("appointment")


def _chosen_booking(ctx: Context) -> BookingView:
    # The port has no single-booking lookup; the list is short (a few per citizen).
    ref = ctx.chosen("ref")
    for booking in ctx.port.upcoming(ctx.phone):
        if booking.ref == ref:
            return booking
    raise Refused("not_found")


def _show_details(ctx: Context) -> View:
    booking = _chosen_booking(ctx)
    lines = (
        booking.department,
        booking.hospital,
        ctx.cat.when(booking.starts_at),
        ctx.t("mine.tcode", tcode=group_tcode(booking.tcode)),
    )
    return View(lines, (Option("cancel", ctx.t("mine.cancel")),))


def _show_cancel(ctx: Context) -> View:
    booking = _chosen_booking(ctx)
    title = ctx.t(
        "cancel.title", department=booking.department, when=ctx.cat.when(booking.starts_at)
    )
    return View((title,), (Option("cancel", ctx.t("cancel.ok")),))


def _act_cancel(ctx: Context, option_id: str) -> Finish:
    booking = ctx.port.cancel(ctx.phone, ctx.chosen("ref"))
    detail = ctx.t(
        "cancelled.detail", department=booking.department, when=ctx.cat.when(booking.starts_at)
    )
    return Finish("cancelled", (ctx.t("cancelled.title"), detail))


SCREENS = (
    Screen("appointments", _show_list, _act_list, leads_to=frozenset({"appointment"})),
    # Any refusal about one booking (gone, deadline passed...) returns to the fresh list.
    Screen(
        "appointment",
        _show_details,
        lambda ctx, option_id: Go("cancel"),
        leads_to=frozenset({"cancel"}),
        refusal_default="appointments",
    ),
    Screen(
        "cancel",
        _show_cancel,
        _act_cancel,
        leads_to=frozenset({"cancelled"}),
        refusal_default="appointments",
    ),
)
