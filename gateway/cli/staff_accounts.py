"""`ors staff add|list|disable|reset`: console accounts. A setup link is printed once, alone
on the last line, like a kiosk key: only its hash is stored, and it works once within 24 hours.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from gateway.cli import choices, context, demo_url
from gateway.runtime import Runtime
from gateway.staff.accounts import SETUP_VALID, Listed, StaffError
from gateway.staff.roles import ROLES

HEADER = ("EMAIL", "NAME", "ROLE", "HOSPITAL", "DOCTOR", "2FA", "STATE", "LAST LOGIN")


def register(group: click.Group) -> None:
    group.add_command(staff)


@click.group(help="Staff console accounts: add, list, disable, enable, reset.")
def staff() -> None:
    pass


@staff.command(
    "add", help="Add an account; without --password-stdin a setup link is printed on the last line."
)
@click.option("--email", required=True)
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--hospital", "hospital_code", default=None, help="Hospital code (all but ministry).")
@click.option("--doctor", "doctor_code", default=None, help="Doctor code (doctor accounts only).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)
def staff_add(
    email: str,
    name: str,
    role: str,
    hospital_code: str | None,
    doctor_code: str | None,
    password_stdin: bool,
) -> None:
    rt = context.runtime()
    # A wrong code is refused with the valid ones before anything is written.
    hospital = choices.hospital(rt.booking, hospital_code) if hospital_code else None
    password = _stdin_line() if password_stdin else None
    with _refused():
        setup = rt.staff.add(email, name, role, hospital, doctor_code, password)
    where = f" at {hospital}" if hospital else " for every hospital"
    if setup is None:
        click.echo(f"{role} account {email.strip().lower()} added{where}; it can sign in at:")
        click.echo(f"{_base(rt)}/console/login")
        return
    hours = int(SETUP_VALID.total_seconds() // 3600)
    click.echo(
        f"{role} account {email.strip().lower()} added{where}. Give this link to its owner only: "
        f"it sets the password, works once and expires in {hours} hours:"
    )
    click.echo(_setup_link(rt, setup))


@staff.command("list", help="Every account: role, hospital, second factor, state, last login.")
def staff_list() -> None:
    rt = context.runtime()
    zones, shared = choices.zones(rt.booking), choices.one_zone(rt.booking)
    rows = [HEADER] + [
        _row(a, zones.get(a.hospital_code or "", shared)) for a in rt.staff.listing()
    ]
    for row in _aligned(rows):
        click.echo(row)


@staff.command("disable", help="Disable an account; its console sessions end at once.")
@click.argument("email")
def staff_disable(email: str) -> None:
    rt = context.runtime()
    with _refused():
        rt.staff.disable(email)
    click.echo(f"{email.strip().lower()} is disabled and its console sessions have ended")


@staff.command("enable", help="Enable a disabled account again (its password is as it was).")
@click.argument("email")
def staff_enable(email: str) -> None:
    rt = context.runtime()
    with _refused():
        rt.staff.enable(email)
    click.echo(f"{email.strip().lower()} is enabled")


@staff.command(
    "reset",
    help="Clear the password, second factor (TOTP) and recovery codes; end the sessions; "
    "print a new setup link on the last line.",
)
@click.argument("email")
def staff_reset(email: str) -> None:
    rt = context.runtime()
    with _refused():
        setup = rt.staff.reset(email)
    hours = int(SETUP_VALID.total_seconds() // 3600)
    click.echo(
        f"{email.strip().lower()}: password, second factor (TOTP) and recovery codes cleared, "
        "console sessions ended."
    )
    click.echo(
        f"Give this link to its owner only: it sets a new password, works once and expires in "
        f"{hours} hours:"
    )
    click.echo(_setup_link(rt, setup))


# --- inside -----------------------------------------------------------------------------------


@contextmanager
def _refused() -> Iterator[None]:
    """A refused account operation as its one sentence and a non-zero exit."""
    try:
        yield
    except StaffError as refused:
        raise click.ClickException(str(refused)) from None


def _stdin_line() -> str:
    """The password: asked for twice without echo at a terminal, else one line of stdin
    without its line ending (spaces are part of a password)."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))
    return sys.stdin.readline().rstrip("\r\n")


def _base(rt: Runtime) -> str:
    """Where staff open the console: the running demo's address in the embedded mode (which
    may be any port), the configured public address otherwise."""
    settings = rt.settings
    return demo_url.base_url(settings) if settings.embedded else settings.public_base_url


def _setup_link(rt: Runtime, setup: str) -> str:
    return f"{_base(rt).rstrip('/')}/console/setup/{setup}"


def _row(account: Listed, tz: ZoneInfo | None) -> tuple[str, ...]:
    return (
        account.email,
        account.name,
        account.role,
        account.hospital_code or "all",
        account.doctor_code or "-",
        "yes" if account.second_factor else "no",
        account.state,
        _when(account.last_login_at, tz),
    )


def _when(moment: datetime | None, tz: ZoneInfo | None) -> str:
    """Local time of the account's hospital; UTC, said so, when no zone applies."""
    if moment is None:
        return "never"
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}" if tz else f"{moment:%Y-%m-%d %H:%M} UTC"


def _aligned(rows: Sequence[Sequence[str]]) -> Iterator[str]:
    """Columns padded to their widest cell (names and states hold spaces)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        yield "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
