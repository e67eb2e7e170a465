"""Staff commands at the hospital desk: the day's bookings (list, find, book for any person,
cancel, rebook, check in), invitations (issue, list, withdraw) and closing a session. Each action is audited under `--by`
(gateway.cli.options); `ors citizens` (gateway.cli.citizens) manages the persons booked for.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import click

from gateway.booking.domain.errors import CheckInRefused
from gateway.booking.domain.persons import first_name, has_phone
from gateway.booking.domain.states import InvitationStatus
from gateway.booking.operations.invitations import Offer
from gateway.booking.sql import persons
from gateway.booking.views.day_list import DeskBooking
from gateway.booking.views.find import FoundBooking
from gateway.booking.views.invitations_list import ListedInvitation
from gateway.cli import choices, context
from gateway.cli.options import DAY, by_option, date_of
from gateway.cli.refusals import explained, sentence
from gateway.runtime import Runtime
from tcode.codes import group as grouped
from tcode.codes import is_valid, normalize


def register(group: click.Group) -> None:
    for command in (bookings, invite, invitations, sessions):
        group.add_command(command)


# --- ors bookings ------------------------------------------------------------------------------


@click.group(help="Bookings at the hospital desk.")
def bookings() -> None:
    pass


@bookings.command("list", help="The bookings of a hospital's day (any status).")
@click.option("--hospital", required=True, help="Hospital code, e.g. KNH.")
@click.option("--date", "day", type=DAY, required=True, help="YYYY-MM-DD")
@click.option("--department", default=None, help="Department code, e.g. CARD.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def bookings_list(hospital: str, day: datetime, department: str | None, as_json: bool) -> None:
    booking = context.runtime().booking
    at = choices.hospital(booking, hospital)
    code = choices.department(booking, at, department).code if department else None
    rows = booking.day_bookings(at, date_of(day), code)
    if as_json:
        click.echo(json.dumps([_row_json(r) for r in rows], ensure_ascii=False, indent=1))
        return
    if rows:
        click.echo(
            f"{'TIME':<5}  {'DEPT':<6} {'REF':<8}  {'STATUS':<10} {'KIND':<10} {'PERSON':<12} "
            f"{'PHONE':<14} {'T-CODE':<10} QUEUE"
        )
    for r in rows:
        queue = f"#{r.queue_number}" if r.queue_number else ""
        click.echo(
            f"{r.starts_at:%H:%M}  {r.department:<6} {r.ref}  {r.status:<10} {r.kind:<10} "
            f"{r.person or '-':<12} {_phone_of(r) or '-':<14} {r.tcode or '-':<10} "
            f"{queue}".rstrip()
        )
    click.echo(f"{len(rows)} booking{'s' if len(rows) != 1 else ''}")


def _phone_of(r: DeskBooking) -> str | None:
    """The phone that reaches the person; None for one without a phone (or erased)."""
    return r.phone if has_phone(r.phone) else None


def _row_json(r: DeskBooking) -> dict[str, object]:
    return {
        "ref": r.ref,
        "department": r.department,
        "starts_at": r.starts_at.isoformat(),
        "status": r.status,
        "kind": r.kind,
        "channel": r.channel,
        "phone": _phone_of(r),
        "name": r.name,
        "person": r.person,
        "tcode": r.tcode,
        "queue_number": r.queue_number,
    }


@bookings.command("find", help="Every booking of a phone's persons, of a T-code, or of a ref.")
@click.option("--phone", default=None, help="Any format, e.g. 0712 345678.")
@click.option("--tcode", default=None, help="The voucher's 10 digits (spaces, dashes, T allowed).")
@click.option("--ref", default=None, help="A booking reference.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array (times in UTC too).")
def bookings_find(phone: str | None, tcode: str | None, ref: str | None, as_json: bool) -> None:
    if sum(key is not None for key in (phone, tcode, ref)) != 1:
        raise click.UsageError("give one of --phone, --tcode or --ref")
    code = normalize(tcode) if tcode is not None else None
    if code is not None and not is_valid(code):
        raise click.UsageError(f"{tcode!r} is not a T-code (10 digits, the last a check): a typo?")
    with explained():
        found = context.runtime().booking.find_bookings(
            phone=phone, tcode=code, ref=ref.strip() if ref else None
        )
    if as_json:
        click.echo(json.dumps([_found_json(f) for f in found], ensure_ascii=False, indent=1))
        return
    if not found:
        raise click.ClickException("no booking found")
    click.echo(
        f"{'REF':<8}  {'PERSON':<12} {'HOSP':<6} {'DEPT':<6} {'DATE':<10} {'TIME':<5}  "
        f"{'STATUS':<10} {'CHANNEL':<8} VOUCHER"
    )
    for f in found:
        click.echo(
            f"{f.ref:<8}  {f.person or '-':<12} {f.hospital:<6} {f.department:<6} "
            f"{f.starts_at:%Y-%m-%d %H:%M}  {f.status:<10} {f.channel:<8} {f.voucher or '-'}"
        )


def _found_json(f: FoundBooking) -> dict[str, object]:
    return {
        "ref": f.ref,
        "person": f.person,
        "hospital": f.hospital,
        "department": f.department,
        "starts_at": f.starts_at.isoformat(),  # hospital-local, with its offset
        "starts_at_utc": f.starts_at.astimezone(UTC).isoformat(),
        "status": f.status,
        "channel": f.channel,
        "voucher": f.voucher,
    }


@bookings.command("book", help="Book a slot for any person, one without a phone too.")
@click.option("--person", "person_id", type=int, required=True, help="The person's id.")
@click.option("--slot", "slot_id", type=int, required=True, help="See `ors slots list`.")
@by_option
def bookings_book(person_id: int, slot_id: int, by: str) -> None:
    runtime = context.runtime()
    with explained():
        done = runtime.booking.book_at_desk(person_id, slot_id, by)
    name, reached = _person(runtime, person_id)
    link = f"{runtime.settings.public_base_url.rstrip('/')}/v/{done.voucher_ref}"
    click.echo(f"booked {done.ref} for {name or f'person {person_id}'}")
    click.echo(f"  {done.hospital}, {done.department}, {done.starts_at:%a %d %b %Y %H:%M}")
    click.echo(f"  T-code {grouped(done.tcode)}")
    click.echo(f"  voucher {link}" + ("" if reached else "  (no phone: print it)"))


def _person(runtime: Runtime, person_id: int) -> tuple[str, bool]:
    """The person's first name (may be "") and whether a phone reaches them (an SMS goes)."""
    with runtime.reader() as session:
        row = persons.find(session, person_id)
    assert row is not None  # just booked for
    return first_name(row.name), has_phone(row.phone)


@bookings.command("cancel", help="Cancel a booking (staff may cancel at any time).")
@click.argument("ref")
@click.option("--reason", required=True, help="Told to the citizen in the cancellation SMS.")
@by_option
def bookings_cancel(ref: str, reason: str, by: str) -> None:
    done = context.runtime().booking.cancel(ref.upper(), by="staff", reason=reason, actor=by)
    click.echo(f"cancelled {done.ref} ({done.department}, {done.starts_at:%a %d %b %H:%M})")


@bookings.command("rebook", help="Move a booking to another slot (staff may at any time).")
@click.argument("ref")
@click.option("--slot", "slot_id", type=int, required=True, help="The new slot's id.")
@by_option
def bookings_rebook(ref: str, slot_id: int, by: str) -> None:
    done = context.runtime().booking.rebook(ref.upper(), slot_id, by="staff", actor=by)
    click.echo(
        f"rebooked {ref.upper()} -> {done.ref} ({done.hospital_code}, {done.department}, "
        f"{done.starts_at:%a %d %b %H:%M}), T-code {done.tcode}"
    )


@bookings.command("checkin", help="Check a citizen in at the desk (same queue as the kiosk).")
@click.argument("ref")
@by_option
def bookings_checkin(ref: str, by: str) -> None:
    try:
        ticket = context.runtime().booking.desk_check_in(ref.upper(), actor=by)
    except CheckInRefused as refused:
        raise click.ClickException(f"cannot check in {ref.upper()}: {sentence(refused)}") from None
    room = f", {ticket.room}" if ticket.room else ""
    whose = f" for {ticket.person}" if ticket.person else ""
    click.echo(
        f"checked in {ref.upper()}{whose}: queue number {ticket.queue_number}, "
        f"{ticket.department or 'your clinic'}{room}"
    )


# --- ors invite --------------------------------------------------------------------------------


@click.command(help="Invite a citizen: a booked slot (--slot) or a window of days (--from/--to).")
@click.option("--phone", required=True)
@click.option("--hospital", required=True, help="Hospital code, e.g. KNH.")
@click.option("--department", required=True, help="Department code, e.g. CARD.")
@click.option("--slot", "slot_id", type=int, default=None, help="Book this slot at once.")
@click.option("--from", "window_from", type=DAY, default=None, help="First day (YYYY-MM-DD).")
@click.option("--to", "window_to", type=DAY, default=None, help="Last day (YYYY-MM-DD).")
@click.option("--expires", type=DAY, default=None, help="Last day to book (YYYY-MM-DD).")
@click.option(
    "--person", "person_id", type=int, default=None, help="A dependant of the phone (its id)."
)
@by_option
def invite(
    phone: str,
    hospital: str,
    department: str,
    slot_id: int | None,
    window_from: datetime | None,
    window_to: datetime | None,
    expires: datetime | None,
    person_id: int | None,
    by: str,
) -> None:
    if (slot_id is None) == (window_from is None and window_to is None):
        raise click.UsageError("give either --slot or --from and --to")
    offer = Offer(
        slot_id=slot_id,
        window_from=date_of(window_from) if window_from else None,
        window_to=date_of(window_to) if window_to else None,
        expires=date_of(expires) if expires else None,
    )
    booking = context.runtime().booking
    dept = choices.department(booking, hospital, department)
    info = booking.invite(phone, dept.hospital_code, dept.code, by, offer, person_id)
    if info.booking_ref:
        click.echo(f"invitation {info.ref} issued and booked as {info.booking_ref}")
    else:
        click.echo(
            f"invitation {info.ref} issued: {info.window_from} to {info.window_to}, "
            f"open until {info.expires_at:%Y-%m-%d %H:%M}"
        )


# --- ors invitations ---------------------------------------------------------------------------


@click.group(help="Invitations staff issued: list a hospital's, withdraw an open one.")
def invitations() -> None:
    pass


@invitations.command("list", help="A hospital's invitations, soonest expiry first.")
@click.option("--hospital", required=True, help="Hospital code, e.g. KNH.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in InvitationStatus]),
    default=None,
    help="Only these.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array (times in UTC too).")
def invitations_list(hospital: str, status: str | None, as_json: bool) -> None:
    booking = context.runtime().booking
    with explained():
        found = booking.invitations(
            hospital_code=choices.hospital(booking, hospital), status=status
        )
    if as_json:
        click.echo(json.dumps([_invitation_json(i) for i in found], ensure_ascii=False, indent=1))
        return
    if found:
        click.echo(
            f"{'REF':<8}  {'PERSON':<12} {'PHONE':<8} {'DEPT':<6} {'FROM':<10} {'TO':<10} "
            f"{'EXPIRES':<16}  {'STATUS':<9} {'BOOKING':<8}  BY"
        )
    for i in found:
        click.echo(
            f"{i.ref:<8}  {i.person or '-':<12} {_masked(i.phone):<8} {i.department:<6} "
            f"{_day(i.window_from):<10} {_day(i.window_to):<10} {i.expires_at:%Y-%m-%d %H:%M}  "
            f"{i.status:<9} {i.booking_ref or '-':<8}  {i.created_by}"
        )
    click.echo(f"{len(found)} invitation{'s' if len(found) != 1 else ''}")


def _masked(phone: str) -> str:
    """The phone as a list may show it: its last three digits ("-" for a person without one)."""
    return "****" + phone[-3:] if has_phone(phone) else "-"


def _day(day: date | None) -> str:
    return day.isoformat() if day else "-"


def _invitation_json(i: ListedInvitation) -> dict[str, object]:
    return {
        "ref": i.ref,
        "person": i.person,
        "phone": _masked(i.phone),
        "hospital": i.hospital,
        "department": i.department,
        "window_from": _day(i.window_from),
        "window_to": _day(i.window_to),
        "expires_at": i.expires_at.isoformat(),  # hospital-local, with its offset
        "expires_at_utc": i.expires_at.astimezone(UTC).isoformat(),
        "status": i.status,
        "booking_ref": i.booking_ref,
        "created_by": i.created_by,
    }


@invitations.command("withdraw", help="Withdraw an open invitation (a booked one: cancel it).")
@click.argument("ref")
@click.option("--reason", required=True, help="Why, for the audit trail.")
@by_option
def invitations_withdraw(ref: str, reason: str, by: str) -> None:
    with explained():
        context.runtime().booking.withdraw_invitation(ref.strip().upper(), by, reason)
    click.echo(f"invitation {ref.strip().upper()} withdrawn")


# --- ors sessions ------------------------------------------------------------------------------


@click.group(help="Sessions of a department.")
def sessions() -> None:
    pass


@sessions.command("close", help="Close a department's day: cancel its bookings, book no more.")
@click.option("--hospital", required=True, help="Hospital code, e.g. KNH.")
@click.option("--department", required=True, help="Department code, e.g. CARD.")
@click.option("--date", "day", type=DAY, required=True, help="YYYY-MM-DD")
@click.option("--reason", required=True, help="Told to every citizen in the cancellation SMS.")
@by_option
def sessions_close(hospital: str, department: str, day: datetime, reason: str, by: str) -> None:
    booking = context.runtime().booking
    dept = choices.department(booking, hospital, department)
    report = booking.close_session(dept.hospital_code, dept.code, date_of(day), reason, by)
    click.echo(
        f"closed {dept.code} at {dept.hospital_code} on {date_of(day)}: "
        f"{report.cancelled} bookings cancelled, {report.holds_released} holds released, "
        f"{report.slots} slots closed"
    )
