"""Options the staff commands share: who acts (`--by`) and a day.

Each staff action is recorded in the audit trail under `--by` (default: the OS user), with the
OS user beside a name given by hand: `--by` is free text, the OS account is who really ran it.
"""

from __future__ import annotations

import getpass
from datetime import date, datetime

import click

from gateway.booking.operations.audit import AUDIT_ACTOR_LENGTH

DAY = click.DateTime(formats=["%Y-%m-%d"])


def date_of(value: datetime) -> date:
    return value.date()


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
