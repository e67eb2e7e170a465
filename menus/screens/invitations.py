"""Taking up an invitation: staff offered a time of one department within a window of days.

"My appointments" lists the phone's open invitations first; choosing one offers only the days
and times inside its window, and confirming books it through the core, which turns the
invitation into that booking (no hold: the hospital offered the place, and the slot's own
limits are checked when it is booked).
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from menus.context import Context
from menus.flow import Finish, Go, Screen, View
from menus.formats import clock
from menus.ports import InvitationView, Refused
from menus.reply import Option
from menus.screens.booking import booked
from menus.screens.persons import said
from menus.screens.voice_privacy import department_said, on_voice, phone_proven

# An option id of "My appointments" that picks an invitation rather than a booking.
PREFIX = "inv:"
# session.chosen keys: the invitation's ref, the day and the time chosen in its window.
INVITATION, DAY, SLOT = "invitation", "invitation_day", "invitation_slot"

# Where a refused booking of an invitation leads: another time when the place is gone,
# another day when the person may not book that day; anything else back to the list.
AFTER_REFUSAL = MappingProxyType(
    {
        "slot_full": "invitation_slot",
        "slot_started": "invitation_slot",
        "not_found": "invitation_slot",
        "limit_per_day": "invitation_day",
        "department_same_day": "invitation_day",
    }
)


def options(ctx: Context) -> tuple[Option, ...]:
    """The phone's open invitations as options of "My appointments", soonest expiry first."""
    return tuple(_option(ctx, i) for i in ctx.port.invitations(ctx.phone))


def _option(ctx: Context, i: InvitationView) -> Option:
    day, person = ctx.cat.day(i.last_day), said(ctx, i.person)
    # Over voice the list names no department, as for bookings: a caller id is only a claim.
    where = {"hospital": i.hospital} if on_voice(ctx) else {"department": i.department}
    channel = "voice_" if on_voice(ctx) else ""
    key = f"invite.{channel}option" if person is None else f"invite.{channel}person_option"
    return Option(PREFIX + i.ref, ctx.t(key, day=day, person=person, **where))


def chosen_invitation(ctx: Context) -> InvitationView:
    """The invitation picked from the list, as the core sees it now (closed: refused)."""
    ref = ctx.chosen(INVITATION)
    for invitation in ctx.port.invitations(ctx.phone):
        if invitation.ref == ref:
            return invitation
    raise Refused("invitation_closed")


def _show_day(ctx: Context) -> View:
    invitation = chosen_invitation(ctx)
    # The window's days, released for booking or not: the hospital offered them.
    found = ctx.port.open_days(invitation.department_id, until=invitation.last_day)
    days = [d for d in found if d >= invitation.first_day]
    if not days:
        return View((ctx.t("invite.no_days"),))
    return View((ctx.t("book.day"),), tuple(Option(d.isoformat(), ctx.cat.day(d)) for d in days))


def _act_day(ctx: Context, iso_day: str) -> Go:
    ctx.session.chosen[DAY] = iso_day
    return Go("invitation_slot")


def _show_slot(ctx: Context) -> View | Go:
    invitation, day = chosen_invitation(ctx), date.fromisoformat(ctx.chosen(DAY))
    slots = ctx.port.free_slots(invitation.department_id, day, released_only=False)
    if not slots:
        return Go("invitation_day", notice=ctx.t("book.day_full"))
    options = tuple(
        Option(s.id, ctx.t("book.slot_option", time=clock(s.starts_at), places=s.places_left))
        for s in slots
    )
    return View((ctx.t("book.slot", day=ctx.cat.day(day)),), options)


def _act_slot(ctx: Context, slot_id: str) -> Go:
    ctx.session.chosen[SLOT] = slot_id
    return Go("invitation_confirm")


def _show_confirm(ctx: Context) -> View:
    invitation, day = chosen_invitation(ctx), date.fromisoformat(ctx.chosen(DAY))
    # Nothing is held for an invitation: a time taken meanwhile is refused here already.
    free = ctx.port.free_slots(invitation.department_id, day, released_only=False)
    starts_at = next((s.starts_at for s in free if s.id == ctx.chosen(SLOT)), None)
    if starts_at is None:
        raise Refused("slot_full")
    person = said(ctx, invitation.person)
    if person is None:
        when: str = ctx.cat.when(starts_at)
    else:
        when = ctx.t("confirm.for", person=person, when=ctx.cat.short_when(starts_at))
    department = department_said(ctx, invitation.department, invitation.sensitive)
    lines = (department, invitation.hospital, when)
    return View(lines, (Option("confirm", ctx.t("confirm.ok")),))


def _act_confirm(ctx: Context, option_id: str) -> Finish:
    if not phone_proven(ctx):  # checked again where it matters: the one act that books
        raise Refused("not_owner")
    ref, slot = ctx.chosen(INVITATION), ctx.chosen(SLOT)
    return booked(ctx, ctx.port.book_invitation(ctx.phone, ref, slot, ctx.config.channel))


SCREENS = (
    Screen(
        "invitation_day",
        _show_day,
        _act_day,
        leads_to=frozenset({"invitation_slot"}),
        refusal_default="appointments",
    ),
    Screen(
        "invitation_slot",
        _show_slot,
        _act_slot,
        leads_to=frozenset({"invitation_day", "invitation_confirm"}),
        after_refusal=AFTER_REFUSAL,
        refusal_default="appointments",
    ),
    Screen(
        "invitation_confirm",
        _show_confirm,
        _act_confirm,
        leads_to=frozenset({"booked"}),
        after_refusal=AFTER_REFUSAL,
        refusal_default="appointments",
    ),
)
