"""`ors citizens`: the persons of a phone (register, list, hide, move), blocks and national
IDs, and what is held about a person (export, erase).

A phone holds "Me" and dependants; a person registered at the desk may have no phone at all,
so unblock, export and erase take a PHONE or `--person ID`.
Commands that create a person print their id alone on the last line (`person 17`), so a
script can take it, as `ors kiosk add` prints its key.
"""

from __future__ import annotations

import json
import sys

import click
from sqlalchemy.orm import Session

from gateway.booking.domain.errors import NotFound
from gateway.booking.privacy import erasure
from gateway.booking.privacy import person_export as booking_export
from gateway.booking.sql.persons import PersonInfo
from gateway.booking.sql.uow import UnitOfWork
from gateway.cli import context
from gateway.cli.options import by_option
from gateway.cli.refusals import explained
from gateway.demo_secrets import id_hash_key
from gateway.messaging import erasure as messaging_erasure
from gateway.messaging import person_export as messaging_export
from gateway.runtime import Runtime


def register(group: click.Group) -> None:
    group.add_command(citizens)


@click.group(help="Citizens: the persons of a phone, blocks, national IDs, what is held.")
def citizens() -> None:
    pass


def _phone(runtime: Runtime, raw: str) -> str:
    with explained():
        return runtime.booking.phone(raw)


def _phone_or_person(phone: str | None, person_id: int | None) -> str | int:
    """Whom a command is about: a PHONE as typed, or a person's id (all that a person
    registered without a phone has)."""
    if phone is not None and person_id is None:
        return phone
    if person_id is not None and phone is None:
        return person_id
    raise click.UsageError("give a PHONE or --person ID (not both)")


# --- persons -----------------------------------------------------------------------------------


@citizens.command("register", help="Register a person; prints `person ID` on the last line.")
@click.option("--name", required=True, help="First name (the holder's: full name).")
@click.option("--phone", default=None, help="The phone's holder, by real name (--id-stdin).")
@click.option("--guardian", default=None, help="Add a dependant to this phone.")
@click.option("--no-phone", is_flag=True, help="A person with no phone (vouchers are printed).")
@click.option("--birth-year", type=int, default=None, help="A minor's, instead of an ID.")
@click.option("--id-stdin", is_flag=True, help="Read the national ID from stdin (not echoed).")
@by_option
def citizens_register(
    name: str,
    phone: str | None,
    guardian: str | None,
    no_phone: bool,
    birth_year: int | None,
    id_stdin: bool,
    by: str,
) -> None:
    if sum(map(bool, (phone, guardian, no_phone))) != 1:
        raise click.UsageError("give one of --phone, --guardian or --no-phone")
    if phone and not id_stdin:
        raise click.UsageError("--phone registers a real name: add --id-stdin with the ID")
    if phone and birth_year is not None:
        raise click.UsageError("--birth-year is for a dependant or a person without a phone")
    national_id = _national_id() if id_stdin else None
    booking = context.runtime().booking
    with explained():
        if phone:
            assert national_id is not None  # --phone requires --id-stdin
            booking.register(phone, name, national_id, actor=by)
            person = booking.persons(phone)[0]
            click.echo(f"registered {person.name} as the phone's holder")
        elif guardian:
            person = booking.add_person(guardian, name, birth_year, national_id, actor=by)
            click.echo(f"added {person.name} as a dependant of that phone")
        else:
            person = booking.register_without_phone(name, by, birth_year, national_id)
            click.echo(f"registered {person.name} without a phone: print their vouchers")
    click.echo(f"person {person.id}")


def _national_id() -> str:
    """The national ID from stdin: asked for without echo at a terminal, else one line."""
    if sys.stdin.isatty():
        return str(click.prompt("National ID", hide_input=True, err=True))
    line = sys.stdin.readline().strip()
    if not line:
        raise click.ClickException("no national ID on stdin (--id-stdin)")
    return line


@citizens.command("persons", help="The persons of a phone: id, first name, who, birth year.")
@click.argument("phone")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def citizens_persons(phone: str, as_json: bool) -> None:
    runtime = context.runtime()
    shown = runtime.booking.persons(_phone(runtime, phone))
    if shown[0].id == 0:  # a phone that never called nor was registered
        raise click.ClickException("no citizen with that phone")
    if as_json:
        click.echo(json.dumps([_person_json(p) for p in shown], ensure_ascii=False, indent=1))
        return
    click.echo(f"{'ID':>6}  {'WHO':<9}  {'BORN':<4}  NAME")
    for p in shown:
        who, born = "me" if p.me else "dependant", p.birth_year or "-"
        click.echo(f"{p.id:>6}  {who:<9}  {born!s:<4}  {p.first_name or '-'}")


def _person_json(p: PersonInfo) -> dict[str, object]:
    return {"id": p.id, "first_name": p.first_name or None, "me": p.me, "birth_year": p.birth_year}


@citizens.command("hide", help="Hide a dependant (never deleted: their blocks still count).")
@click.argument("phone")
@click.option("--person", "person_id", type=int, required=True, help="The dependant's id.")
@by_option
def citizens_hide(phone: str, person_id: int, by: str) -> None:
    with explained():
        context.runtime().booking.hide_person(phone, person_id, actor=by)
    click.echo(f"person {person_id} hidden")


@citizens.command("move", help="Move a dependant to a phone of their own (a child grows up).")
@click.option("--person", "person_id", type=int, required=True, help="The dependant's id.")
@click.option("--phone", "new_phone", required=True, help="Their own phone.")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@by_option
def citizens_move(person_id: int, new_phone: str, reason: str, by: str) -> None:
    with explained():
        holder = context.runtime().booking.move_person(person_id, new_phone, by, reason)
    click.echo(f"person {person_id} moved to that phone with their future bookings")
    click.echo(f"person {holder}")


# --- blocks and national IDs -------------------------------------------------------------------


@citizens.command("unblock", help="Lift the block of a phone's holder, or of a person by id.")
@click.argument("phone", required=False)
@click.option("--person", "person_id", type=int, default=None, help="A person's id (of PHONE).")
@click.option("--reason", required=True)
@by_option
def citizens_unblock(phone: str | None, person_id: int | None, reason: str, by: str) -> None:
    booking = context.runtime().booking
    if phone is not None:  # with --person: the person must be of that phone
        booking.unblock(phone, by, reason, person_id)
    elif person_id is not None:  # found by id: one without a phone too
        booking.unblock_person(person_id, by, reason)
    else:
        raise click.UsageError("give a PHONE, --person ID or both")
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


# --- what is held about a person ---------------------------------------------------------------


@citizens.command("export", help="Print everything held about a person (right of access).")
@click.argument("phone", required=False)
@click.option("--person", "person_id", type=int, default=None, help="A person's id instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def citizens_export(phone: str | None, person_id: int | None, as_json: bool) -> None:
    who = _phone_or_person(phone, person_id)
    runtime = context.runtime()
    with runtime.reader() as session:
        if isinstance(who, int):
            found = booking_export.export_person(session, who)
            if found is None:
                raise click.ClickException("no such person")
            held, messages_of = found.held, found.phone  # None: no phone's messages are theirs
        else:
            messages_of = _phone(runtime, who)
            by_phone = booking_export.held_about(session, messages_of)
            if by_phone is None:
                raise click.ClickException("no citizen with that phone")
            held = by_phone
        if messages_of is not None:
            held |= messaging_export.held_about(session, messages_of)
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
@click.argument("phone", required=False)
@click.option("--person", "person_id", type=int, default=None, help="A person's id instead.")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option(
    "--cancel-future",
    is_flag=True,
    help="Cancel their live future bookings first (by staff, with the reason).",
)
@by_option
def citizens_erase(
    phone: str | None, person_id: int | None, reason: str, cancel_future: bool, by: str
) -> None:
    who = _phone_or_person(phone, person_id)
    runtime = context.runtime()
    if isinstance(who, str):
        who = _phone(runtime, who)
    now = runtime.clock.now()
    # One transaction for both halves: the booking core's and messaging's (composed here).
    with UnitOfWork(runtime.writer) as uow:
        # By id: a holder's own phone, or the placeholder of a person without one.
        erased = _phone_of(uow.session, who) if isinstance(who, int) else who
        request = erasure.Request(erased, reason, by, cancel_future)
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


def _phone_of(session: Session, person_id: int) -> str:
    try:
        return erasure.phone_of(session, person_id)
    except NotFound:
        raise click.ClickException("no such person") from None
    except erasure.SharedPhone:
        raise click.ClickException(
            f"person {person_id} is a dependant: they are erased with their phone's holder "
            "(erase that PHONE)"
        ) from None
