"""From an outbox event to a draft SMS: who gets it, in which language, with which text.

One composer per template family, each reading what it needs in the relay's transaction.
A composer returns None when there is nothing to send (the booking has vanished).

A message about a person goes to their `phone`: a dependant's is the holder's, and its language
and STOP are the holder's too (a phone has one owner, who chose them). A dependant's booking is
named in the text (compose.py). A person without a phone, registered at the desk, gets nothing:
their voucher is printed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.persons import first_name, has_phone, named
from gateway.booking.domain.states import BookingStatus, VoucherState
from gateway.booking.domain.vouchers import current
from gateway.booking.models import (
    Booking,
    Citizen,
    Department,
    Event,
    Hospital,
    Invitation,
    PersonMove,
    Slot,
    Voucher,
)
from gateway.booking.operations.claims import release_at
from gateway.booking.sql.citizens import find_citizen
from gateway.messaging.compose import Appointment, day_of, render, when
from gateway.messaging.texts import Texts
from gateway.settings import Settings

log = logging.getLogger(__name__)
RESENT = "voucher.resent"  # the event type of a voucher the desk sends again


@dataclass(frozen=True)
class Draft:
    template: str
    language: str
    to_phone: str
    body: str


@dataclass(frozen=True)
class Context:
    settings: Settings
    texts: dict[str, Texts]

    def language(self, preferred: str | None) -> str:
        if preferred in self.texts:
            return preferred
        return self.settings.default_language

    def link(self, voucher_ref: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/v/{voucher_ref}"


def voucher(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The confirmation: date, T-code, link to the QR page, how to cancel.

    A booking that replaces one at another hospital (a rebook) says so ("is moved to"). The
    desk's `voucher.resent` sends the same text again, while the voucher still checks in.
    """
    booking = _booking(session, event.payload.get("booking_id"))
    found = _voucher(session, event.payload.get("voucher_id"))
    if booking is None or found is None:
        return None
    if event.type == RESENT and found.state != VoucherState.ISSUED:
        return None  # checked in, cancelled or replaced since the desk asked to resend it
    name = "rebooked" if event.payload.get("rebooked_from") else "voucher"
    return _about_booking(name, booking, found, ctx)


def cancellation(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The notice of a cancellation, by the citizen or by staff (then with the reason).

    A cancellation that is half of a rebook to another hospital says nothing: the new
    booking's message tells the citizen. A staff cancellation, and the release of a voice
    booking nobody confirmed, are notices, which STOP ends; the citizen's own is the
    confirmation they asked for.
    """
    booking = _booking(session, event.payload.get("booking_id"))
    if booking is None or not booking.vouchers or event.payload.get("rebooked_to"):
        return None
    by_staff = event.payload.get("by") == "staff"
    released = event.payload.get("because") == "unconfirmed"
    name = "released" if released else "cancelled_by_staff" if by_staff else "cancelled"
    return _about_booking(
        name,
        booking,
        booking.vouchers[-1],
        ctx,
        notice=by_staff or released,
        shortcode=ctx.settings.ussd_service_code,
        reason=str(event.payload.get("reason") or "") if by_staff else "",
    )


def claim(session: Session, event: Event, ctx: Context) -> Draft | None:
    """After the voucher of a voice booking: reply YES to keep it, or it is released then."""
    if not event.payload.get("unconfirmed"):
        return None
    booking = _booking(session, event.payload.get("booking_id"))
    if booking is None or not booking.unconfirmed or booking.status != BookingStatus.CONFIRMED:
        return None  # confirmed or gone before the relay came to it: nothing to ask
    holder = _holder(booking.citizen)
    if holder is None:
        return None
    hospital = booking.slot.department.hospital
    rules = ctx.settings.booking.rules_for(hospital.code)
    deadline = release_at(booking.slot.starts_at, booking.created_at, rules)
    texts, language = _texts_of(ctx, holder.language)
    if deadline is None:
        return Draft("claim", language, booking.citizen.phone, render(texts, "claim_no_release"))
    until = when(texts, deadline.astimezone(ZoneInfo(hospital.timezone)))
    return Draft("claim", language, booking.citizen.phone, render(texts, "claim", until=until))


def phone_code(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The one-time code a voice caller keys to prove they hold the phone."""
    phone, digits = event.payload.get("phone"), event.payload.get("code")
    if not phone or not digits:
        return None
    language = event.payload.get("language")
    texts, language = _texts_of(ctx, str(language) if language else None)
    return Draft("phone_code", language, str(phone), render(texts, "phone_code", digits=digits))


def rebooked(session: Session, event: Event, ctx: Context) -> Draft | None:
    """A booking moved in the same hospital: the new time, T-code and link."""
    booking = _booking(session, event.payload.get("booking_id"))
    found = _voucher(session, event.payload.get("voucher_id"))
    if booking is None or found is None:
        return None
    return _about_booking(
        "rebooked", booking, found, ctx, notice=event.payload.get("by") == "staff"
    )


def reminder(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The reminder the reminder round decided on, if the booking is still as it was."""
    booking = _booking(session, event.payload.get("booking_id"))
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        return None
    found = current(booking.vouchers)
    if found is None or booking.slot_id != event.payload.get("slot_id"):
        return None  # moved since: the new time has reminders of its own
    return _about_booking("reminder", booking, found, ctx, notice=True)


def invitation(session: Session, event: Event, ctx: Context) -> Draft | None:
    """Staff's invitation: a booked slot (with its voucher), or a window of days to book in."""
    booking = _booking(session, event.payload.get("booking_id"))
    found = _voucher(session, event.payload.get("voucher_id"))
    if booking is not None and found is not None:
        return _about_booking("invited", booking, found, ctx, notice=True)
    notice = _invitation_notice(session, event)
    if notice is None:
        return None
    invited, holder = notice
    if invited.window_from is None:
        return None
    texts, language = _texts_of(ctx, holder.language)
    tz = ZoneInfo(invited.department.hospital.timezone)
    body = render(
        texts,
        "invitation_open",
        _department_only(
            invited.department, language, invited.expires_at.astimezone(tz), invited.citizen
        ),
        shortcode=ctx.settings.ussd_service_code,
        number=ctx.settings.ivr_number,
        first=day_of(texts, invited.window_from),
        last=day_of(texts, invited.window_to or invited.window_from),
        expires=when(texts, invited.expires_at.astimezone(tz)),
    )
    return Draft("invitation_open", language, invited.citizen.phone, body)


def invitation_expired(session: Session, event: Event, ctx: Context) -> Draft | None:
    notice = _invitation_notice(session, event)
    if notice is None:
        return None
    invited, holder = notice
    texts, language = _texts_of(ctx, holder.language)
    tz = ZoneInfo(invited.department.hospital.timezone)
    body = render(
        texts,
        "invitation_expired",
        _department_only(
            invited.department, language, invited.expires_at.astimezone(tz), invited.citizen
        ),
        shortcode=ctx.settings.ussd_service_code,
    )
    return Draft("invitation_expired", language, invited.citizen.phone, body)


def dial_back(session: Session, event: Event, ctx: Context) -> Draft | None:
    """One SMS for a dropped USSD session that holds a slot: dial again before the hold ends."""
    phone, slot_id = str(event.payload.get("phone") or ""), event.payload.get("slot_id")
    slot = session.get(Slot, slot_id) if isinstance(slot_id, int) else None
    expires_at = _instant(event.payload.get("expires_at"))
    citizen = find_citizen(session, phone) if phone else None
    if slot is None or expires_at is None or (citizen and citizen.reminders_opt_out):
        return None
    minutes = math.ceil((expires_at - event.created_at).total_seconds() / 60)
    if minutes <= 0:
        return None
    texts, language = _texts_of(ctx, citizen.language if citizen else None)
    tz = ZoneInfo(slot.department.hospital.timezone)
    body = render(
        texts,
        "dial_back",
        _department_only(slot.department, language, slot.starts_at.astimezone(tz)),
        shortcode=ctx.settings.ussd_service_code,
        minutes=minutes,
    )
    return Draft("dial_back", language, phone, body)


def ivr_retry(session: Session, event: Event, ctx: Context) -> Draft | None:
    """After a call the IVR ended for silence or wrong keys: how to try again."""
    phone = str(event.payload.get("phone") or "")
    citizen = find_citizen(session, phone) if phone else None
    if not phone or (citizen and citizen.reminders_opt_out):
        return None
    preferred = event.payload.get("language") or (citizen.language if citizen else None)
    texts, language = _texts_of(ctx, str(preferred) if preferred else None)
    body = render(
        texts,
        "ivr_retry",
        shortcode=ctx.settings.ussd_service_code,
        number=ctx.settings.ivr_number,
    )
    return Draft("ivr_retry", language, phone, body)


def reply(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The answer to an inbound SMS command, rendered when the command ran."""
    payload = event.payload
    if not payload.get("phone") or not payload.get("body"):
        return None
    return Draft(
        str(payload.get("template") or "reply"),
        str(payload.get("language") or ctx.settings.default_language),
        str(payload["phone"]),
        str(payload["body"]),
    )


def move_code(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The code a dependant's new phone sends back to move them there (asked by the guardian's
    phone), in the new phone's language if it has one, else the guardian's."""
    phone, digits = str(event.payload.get("phone") or ""), event.payload.get("code")
    found = _move(session, event)
    if found is None or not phone or not digits:
        return None
    move, person = found
    citizen = find_citizen(session, phone)
    preferred = (citizen.language if citizen else None) or move.language
    texts, language = _texts_of(ctx, preferred)
    body = render(texts, "move_code", digits=digits, who=first_name(person.name))
    return Draft("move_code", language, phone, body)


def moved_away(session: Session, event: Event, ctx: Context) -> Draft | None:
    """To the guardian's phone: the person's appointments are now on the new phone (shown by
    its last three digits only)."""
    found = _move(session, event)
    guardian = session.get(Citizen, found[0].guardian_id) if found else None
    if found is None or guardian is None or not has_phone(guardian.phone):
        return None
    move, person = found
    texts, language = _texts_of(ctx, move.language or guardian.language)
    body = render(texts, "moved_away", who=first_name(person.name), last3=move.new_phone[-3:])
    return Draft("moved_away", language, guardian.phone, body)


def moved_here(session: Session, event: Event, ctx: Context) -> Draft | None:
    """To the new phone, in the language of its confirming reply: the person's future
    appointments are on this phone now."""
    phone = str(event.payload.get("phone") or "")
    found = _move(session, event)
    if found is None or not phone:
        return None
    citizen = find_citizen(session, phone)
    preferred = event.payload.get("language") or (citizen.language if citizen else None)
    texts, language = _texts_of(ctx, str(preferred) if preferred else None)
    body = render(
        texts,
        "moved_here",
        shortcode=ctx.settings.ussd_service_code,
        who=first_name(found[1].name),
    )
    return Draft("moved_here", language, phone, body)


def blocked(session: Session, event: Event, ctx: Context) -> Draft | None:
    """A block started: until when, and why (missed or cancelled appointments)."""
    because, until = event.payload.get("because"), _instant(event.payload.get("until"))
    if because not in ("no_show", "cancellation") or until is None:
        return None
    found = _notice_to(session, event)
    if found is None:
        return None
    person, holder = found
    if person.blocked_until is None or person.blocked_until < until:
        return None  # lifted before the relay came to it: no notice of a block not in force
    texts, language = _texts_of(ctx, holder.language)
    name = f"blocked_{because}"
    body = render(
        texts,
        name,
        person=named(person) or "",
        strikes=event.payload.get("strikes", ""),
        until=day_of(texts, until.astimezone(_deployment_zone(session)).date()),
    )
    return Draft(name, language, person.phone, body)


def block_warning(session: Session, event: Event, ctx: Context) -> Draft | None:
    """One more cancellation before a day would block the person: said once, while they can
    still choose."""
    try:
        before = date.fromisoformat(str(event.payload.get("before")))
    except ValueError:
        return None
    found = _notice_to(session, event)
    if found is None:
        return None
    person, holder = found
    if person.strikes_since is not None and person.strikes_since > event.created_at:
        return None  # blocked or lifted since: the slate the warning counted is gone
    texts, language = _texts_of(ctx, holder.language)
    body = render(
        texts,
        "block_warning",
        person=named(person) or "",
        strikes=event.payload.get("strikes", ""),
        before=day_of(texts, before),
        days=event.payload.get("block_days", ""),
    )
    return Draft("block_warning", language, person.phone, body)


Composer = Callable[[Session, Event, Context], "Draft | None"]
COMPOSERS: dict[str, Composer] = {
    "voucher": voucher,
    "claim": claim,
    "phone_code": phone_code,
    "cancellation": cancellation,
    "rebooked": rebooked,
    "reminder": reminder,
    "invitation": invitation,
    "invitation_expired": invitation_expired,
    "dial_back": dial_back,
    "ivr_retry": ivr_retry,
    "reply": reply,
    "move_code": move_code,
    "moved_away": moved_away,
    "moved_here": moved_here,
    "blocked": blocked,
    "block_warning": block_warning,
}


def _about_booking(
    name: str, booking: Booking, found: Voucher, ctx: Context, notice: bool = False, **values: str
) -> Draft | None:
    """The message `name` about a booking, to its person's phone; None for a person without
    a phone, and for a `notice` (not the answer to what the phone just did) after STOP."""
    holder = _holder(booking.citizen)
    if holder is None or (notice and holder.reminders_opt_out):
        return None
    language = ctx.language(holder.language)
    appointment = _appointment(booking, found, language)
    body = render(ctx.texts[language], name, appointment, link=ctx.link(found.ref), **values)
    return Draft(name, language, booking.citizen.phone, body)


def _holder(person: Citizen) -> Citizen | None:
    """Whose language and STOP a person's messages follow: the holder of the phone that
    reaches them (a dependant's guardian, else the person); None when no phone does."""
    if not has_phone(person.phone):
        return None
    return person.guardian or person


def _notice_to(session: Session, event: Event) -> tuple[Citizen, Citizen] | None:
    """The person an event about a citizen names and the holder whose language and STOP its
    notice follows; None when the person is gone, has no phone, or the holder said STOP."""
    citizen_id = event.payload.get("citizen_id")
    person = session.get(Citizen, citizen_id) if isinstance(citizen_id, int) else None
    holder = _holder(person) if person is not None else None
    if person is None or holder is None or holder.reminders_opt_out:
        return None
    return person, holder


def _deployment_zone(session: Session) -> tzinfo:
    """The calendar a day of a phone-wide block is told in. A block holds at every hospital
    and its event names none, so: the hospitals' time zone when they share one (a national
    deployment), else UTC, the zone the block is stored in."""
    zones = session.scalars(select(Hospital.timezone).distinct().limit(2)).all()
    return ZoneInfo(zones[0]) if len(zones) == 1 else UTC


def _texts_of(ctx: Context, preferred: str | None) -> tuple[Texts, str]:
    language = ctx.language(preferred)
    return ctx.texts[language], language


def _move(session: Session, event: Event) -> tuple[PersonMove, Citizen] | None:
    """The move an event names and its person; None once erased (anonymise drops the row)."""
    move_id = event.payload.get("move_id")
    move = session.get(PersonMove, move_id) if isinstance(move_id, int) else None
    person = session.get(Citizen, move.person_id) if move is not None else None
    return None if move is None or person is None else (move, person)


def _voucher(session: Session, voucher_id: object) -> Voucher | None:
    return session.get(Voucher, voucher_id) if isinstance(voucher_id, int) else None


def _invitation_notice(session: Session, event: Event) -> tuple[Invitation, Citizen] | None:
    """The invitation the event names and the holder to tell of it, unless either is gone or
    the holder said STOP."""
    invited = _invitation(session, event.payload.get("invitation_id"))
    holder = _holder(invited.citizen) if invited is not None else None
    if invited is None or holder is None or holder.reminders_opt_out:
        return None
    return invited, holder


def _invitation(session: Session, invitation_id: object) -> Invitation | None:
    if not isinstance(invitation_id, int):
        return None
    return session.scalars(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .options(
            joinedload(Invitation.department).joinedload(Department.hospital),
            joinedload(Invitation.citizen).joinedload(Citizen.guardian),
        )
    ).one_or_none()


def _instant(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _department_only(
    department: Department, language: str, local: datetime, person: Citizen | None = None
) -> Appointment:
    dept = DepartmentInfo.of(department, department.hospital)
    return Appointment.of(dept, language, local, person=named(person) if person else None)


def _booking(session: Session, booking_id: object) -> Booking | None:
    if not isinstance(booking_id, int):
        return None
    booking = (
        session.scalars(
            select(Booking)
            .where(Booking.id == booking_id)
            .options(
                joinedload(Booking.slot)
                .joinedload(Slot.department)
                .joinedload(Department.hospital),
                joinedload(Booking.citizen).joinedload(Citizen.guardian),
                joinedload(Booking.vouchers),
            )
        )
        .unique()
        .one_or_none()
    )
    if booking is None:
        log.warning("event names booking %s, which does not exist", booking_id)
    return booking


def _appointment(booking: Booking, found: Voucher, language: str) -> Appointment:
    department = booking.slot.department
    dept = DepartmentInfo.of(department, department.hospital)
    starts_at = booking.slot.starts_at.astimezone(dept.timezone)
    return Appointment.of(dept, language, starts_at, found.tcode, named(booking.citizen))
