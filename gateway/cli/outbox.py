"""`ors outbox`: recent outbound messages and where each one stands; `ors outbox dead` and
`ors outbox retry ID`: what was set aside after failing too often, and putting one back."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from gateway.cli import choices, context
from gateway.logs import mask
from gateway.messaging.dead_letters import DeadLetter, NotRetried, dead_letters, retry
from gateway.messaging.outbox import OutboxEntry, recent
from gateway.messaging.statuses import DELIVERED


def register(group: click.Group) -> None:
    group.add_command(outbox)


@click.group(
    invoke_without_command=True,
    help="Recent outbound messages with their status, newest first.",
)
@click.option("--phone", help="Only messages to this phone (any format, e.g. 0712 345678).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of objects.")
@click.pass_context
def outbox(ctx: click.Context, phone: str | None, limit: int, as_json: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    rt = context.runtime()
    entries = recent(rt.reader, rt.booking.phone(phone) if phone else None, limit)
    if as_json:
        click.echo(json.dumps([e.as_json() for e in entries], ensure_ascii=False))
        return
    if not entries:
        click.echo("no messages")
        return
    tz = choices.one_zone(rt.booking)
    click.echo(f"{_time_header(tz):<19}  {'TO':<15}  {'STATUS':<11}  {'PROVIDER':<14}  TEXT")
    for entry in entries:
        click.echo(_line(entry, tz))


@outbox.command(help="Dead letters: events, messages and inbound SMS set aside, newest first.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of objects.")
def dead(limit: int, as_json: bool) -> None:
    rt = context.runtime()
    found = dead_letters(rt, limit)
    if as_json:
        click.echo(json.dumps([d.as_json() for d in found], ensure_ascii=False))
        return
    if not found:
        click.echo("no dead letters")
        return
    tz = choices.one_zone(rt.booking)
    click.echo(
        f"{_time_header(tz):<19}  {'ID':<14}  {'TRIES':>5}  {'PHONE':<15}  {'WHAT':<20}  ERROR"
    )
    for letter in found:
        click.echo(_dead_line(letter, tz))


@outbox.command("retry", help="Put one dead letter back (an id from `ors outbox dead`).")
@click.argument("ref", metavar="ID")
def retry_command(ref: str) -> None:
    try:
        click.echo(retry(context.runtime(), ref))
    except NotRetried as exc:
        raise click.ClickException(str(exc)) from None


def _time_header(tz: ZoneInfo | None) -> str:
    """The hospitals' local time when they share one zone; UTC, said so, when they do not."""
    return "TIME" if tz else "TIME (UTC)"


def _local(moment: datetime, tz: ZoneInfo | None) -> str:
    return f"{moment.astimezone(tz) if tz else moment:%Y-%m-%d %H:%M:%S}"


def _line(e: OutboxEntry, tz: ZoneInfo | None) -> str:
    head = f"{_local(e.created_at, tz)}  {e.to:<15}  {e.status:<11}  {e.provider:<14}"
    error = f"  [{e.last_error}]" if e.last_error and e.status != DELIVERED else ""
    return f"{head}  {e.body}{error}"


def _dead_line(d: DeadLetter, tz: ZoneInfo | None) -> str:
    # Phones masked: this table is for screens and tickets; --json is for tools.
    head = f"{_local(d.when, tz)}  {d.id:<14}  {d.attempts:>4}x  {mask(d.phone):<15}"
    return f"{head}  {d.what:<20}  {d.error}"
