"""`ors outbox`: recent outbound messages and where each one stands."""

from __future__ import annotations

import json

import click

from gateway.cli import context
from gateway.messaging.outbox import OutboxEntry, recent


def register(group: click.Group) -> None:
    group.add_command(outbox)


@click.command(help="Recent outbound messages with their status, newest first.")
@click.option("--phone", help="Only messages to this phone (any format, e.g. 0712 345678).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of objects.")
def outbox(phone: str | None, limit: int, as_json: bool) -> None:
    rt = context.runtime()
    entries = recent(rt.reader, rt.booking.phone(phone) if phone else None, limit)
    if as_json:
        click.echo(json.dumps([e.as_json() for e in entries], ensure_ascii=False))
        return
    if not entries:
        click.echo("no messages")
    for entry in entries:
        click.echo(_line(entry))


def _line(e: OutboxEntry) -> str:
    head = f"{e.created_at:%Y-%m-%d %H:%M:%S}  {e.to:<15}  {e.status:<11}  {e.provider:<14}"
    error = f"  [{e.last_error}]" if e.last_error and e.status != "delivered" else ""
    return f"{head}  {e.body}{error}"
