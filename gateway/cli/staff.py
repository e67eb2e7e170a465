"""Staff commands: the day's bookings, invitations, closing a session, blocks and IDs, and a
person's data (export, erase).

Each action is recorded in the audit trail under `--by` (default: the OS user), with the OS
user beside a name given by hand: `--by` is free text, the OS account is who really ran it.
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime

import click

from gateway.booking.domain.errors import CheckInRefused, InvalidPhone, NotFound
from gateway.booking.operations.audit import AUDIT_ACTOR_LENGTH
from gateway.booking.operations.invitations import Offer
from gateway.booking.privacy import erasure
from gateway.booking.privacy import person_export as booking_export
from gateway.booking.sql.uow import UnitOfWork
from gateway.booking.views.day_list import DeskBooking
from gateway.cli import context
from gateway.demo_secrets import id_hash_key
from gateway.messaging import erasure as messaging_erasure
from gateway.messaging import person_export as messaging_export
from gateway.runtime import Runtime

DAY = click.DateTime(formats=["%Y-%m-%d"])


def register(group: click.Group) -> None:
    for command in (bookings, invite, sessions, citizens):
        group.add_command(command)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this container's passwd
        return "staff"


def _actor(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """`--by` is only a claim: the audit trail keeps the OS user who ran the command too."""
    user = _os_user()
    if value == user:
        return value
    suffix = f" (os: {user})"
    return f"{value[: AUDIT_ACTOR_LENGTH - len(suffix)]}{suffix}"  # the OS user always fits


by_option = click.option(
    "--by",
    default=_os_user,
    callback=_actor,
    show_default="the OS user",
    help="Who acts (audit trail; the OS user is recorded beside it).",
)


def _day(value: datetime) -> date:
    return value.date()


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
    rows = context.runtime().booking.day_bookings(
        hospital.upper(), _day(day), department.upper() if department else None
    )
    if as_json:
        click.echo(json.dumps([_row_json(r) for r in rows], ensure_ascii=False, indent=1))
        return
    for r in rows:
        queue = f"#{r.queue_number}" if r.queue_number else ""
        click.echo(
            f"{r.starts_at:%H:%M}  {r.department:<6} {r.ref}  {r.status:<10} {r.kind:<10} "
            f"{r.phone:<14} {r.tcode or '-':<10} {queue:<4} {r.name or ''}".rstrip()
        )
    click.echo(f"{len(rows)} booking{'s' if len(rows) != 1 else ''}")


def _row_json(r: DeskBooking) -> dict[str, object]:
    return {
        "ref": r.ref,
        "department": r.department,
        "starts_at": r.starts_at.isoformat(),
        "status": r.status,
        "kind": r.kind,
        "channel": r.channel,
        "phone": r.phone,
        "name": r.name,
        "tcode": r.tcode,
        "queue_number": r.queue_number,
    }


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
        raise click.ClickException(f"cannot check in {ref.upper()}: {refused.status}") from None
    room = f", {ticket.room}" if ticket.room else ""
    click.echo(
        f"checked in {ref.upper()}: queue number {ticket.queue_number}, "
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
@by_option
def invite(
    phone: str,
    hospital: str,
    department: str,
    slot_id: int | None,
    window_from: datetime | None,
    window_to: datetime | None,
    expires: datetime | None,
    by: str,
) -> None:
    if (slot_id is None) == (window_from is None and window_to is None):
        raise click.UsageError("give either --slot or --from and --to")
    offer = Offer(
        slot_id=slot_id,
        window_from=_day(window_from) if window_from else None,
        window_to=_day(window_to) if window_to else None,
        expires=_day(expires) if expires else None,
    )
    info = context.runtime().booking.invite(phone, hospital.upper(), department.upper(), by, offer)
    if info.booking_ref:
        click.echo(f"invitation {info.ref} issued and booked as {info.booking_ref}")
    else:
        click.echo(
            f"invitation {info.ref} issued: {info.window_from} to {info.window_to}, "
            f"open until {info.expires_at:%Y-%m-%d %H:%M}"
        )


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
    report = context.runtime().booking.close_session(
        hospital.upper(), department.upper(), _day(day), reason, by
    )
    click.echo(
        f"closed {department.upper()} at {hospital.upper()} on {_day(day)}: "
        f"{report.cancelled} bookings cancelled, {report.holds_released} holds released, "
        f"{report.slots} slots closed"
    )


# --- ors citizens ------------------------------------------------------------------------------


@click.group(help="Citizens: blocks, national IDs, and what is held about them.")
def citizens() -> None:
    pass


@citizens.command("unblock", help="Lift a citizen's block.")
@click.argument("phone")
@click.option("--reason", required=True)
@by_option
def citizens_unblock(phone: str, reason: str, by: str) -> None:
    context.runtime().booking.unblock(phone, by, reason)
    click.echo("block lifted")


@citizens.command("reassign-id", help="Move a national ID to this phone (asked for, not echoed).")
@click.argument("phone")
@click.option("--reason", required=True)
@by_option
def citizens_reassign_id(phone: str, reason: str, by: str) -> None:
    # Prompted rather than an option, so the ID never lands in shell history or a process list.
    national_id = click.prompt("National ID", hide_input=True)
    context.runtime().booking.reassign_id(phone, national_id, by, reason)
    click.echo("national ID moved")


def _phone(runtime: Runtime, raw: str) -> str:
    try:
        return runtime.booking.phone(raw)
    except InvalidPhone:
        raise click.ClickException("that is not a phone number") from None


@citizens.command("export", help="Print everything held about a person (right of access).")
@click.argument("phone")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def citizens_export(phone: str, as_json: bool) -> None:
    runtime = context.runtime()
    e164 = _phone(runtime, phone)
    with runtime.reader() as session:
        held = booking_export.held_about(session, e164)
        if held is None:
            raise click.ClickException("no citizen with that phone")
        held |= messaging_export.held_about(session, e164)
    if as_json:
        click.echo(json.dumps(held, ensure_ascii=False, indent=1))
        return
    for section, rows in held.items():
        click.echo(f"{section} ({len(rows)})")
        for row in rows:
            click.echo(
                "  " + "; ".join(f"{k}: {_text(v)}" for k, v in row.items() if v is not None)
            )


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


@citizens.command("erase", help="Anonymise a person and their dependants now (right to erasure).")
@click.argument("phone")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option(
    "--cancel-future",
    is_flag=True,
    help="Cancel their live future bookings first (by staff, with the reason).",
)
@by_option
def citizens_erase(phone: str, reason: str, cancel_future: bool, by: str) -> None:
    runtime = context.runtime()
    request = erasure.Request(_phone(runtime, phone), reason, by, cancel_future)
    now = runtime.clock.now()
    # One transaction for both halves: the booking core's and messaging's (composed here).
    with UnitOfWork(runtime.writer) as uow:
        try:
            done = erasure.erase(
                uow.session,
                runtime.booking.rules,
                request,
                id_hash_key(runtime.booking.settings),
                now,
            )
        except NotFound:
            raise click.ClickException("no citizen with that phone") from None
        except erasure.FutureBookings as live:
            raise click.ClickException(
                f"refused: {len(live.refs)} future booking(s) still live "
                f"({', '.join(live.refs)}); add --cancel-future to cancel them first"
            ) from None
        forgotten = messaging_erasure.forget_phone(uow.session, done.phone, done.placeholder, now)
        uow.commit()
    cancelled = f", {len(done.cancelled)} future booking(s) cancelled" if done.cancelled else ""
    click.echo(
        f"erased citizen {done.citizen_id} ({done.people} person(s)){cancelled}: "
        f"{forgotten.messages} message(s) redacted ({forgotten.refused} never to be sent), "
        f"{done.events} event(s) stripped"
    )
