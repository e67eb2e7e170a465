"""`ors kiosk add|list|revoke|rotate`: a kiosk key's whole life; a key is printed only once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from gateway.cli import choices, context
from gateway.kiosks import add_kiosk, list_kiosks, revoke_kiosk, rotate_kiosk


def register(group: click.Group) -> None:
    group.add_command(kiosk)


@click.group(help="Hospital check-in kiosks.")
def kiosk() -> None:
    pass


@kiosk.command("add", help="Register a kiosk; its key is printed once, alone on the last line.")
@click.option("--hospital", "hospital_code", required=True, help="Hospital code, e.g. KNH.")
@click.option("--name", required=True)
@click.option("--language", default="en", show_default=True)
def kiosk_add(hospital_code: str, name: str, language: str) -> None:
    rt = context.runtime()
    code = choices.hospital(rt.booking, hospital_code)
    key = add_kiosk(rt.writer, code, name, rt.clock.now(), language)
    click.echo(f"kiosk {name!r} registered at {code}; store this key now, it is not shown again:")
    click.echo(key)


@kiosk.command("list", help="Every kiosk: id, hospital, name, created, last used, revoked.")
def kiosk_list() -> None:
    rt = context.runtime()
    rows, zones = list_kiosks(rt.reader), choices.zones(rt.booking)
    click.echo(f"{'ID':>4}  {'HOSPITAL':<8}  {'CREATED':<16}  {'LAST USED':<16}  REVOKED  NAME")
    for k in rows:
        tz = zones.get(k.hospital_code)  # the hospital's local time
        click.echo(
            f"{k.id:>4}  {k.hospital_code:<8}  {_when(k.created_at, tz):<16}  "
            f"{_when(k.last_seen_at, tz):<16}  "
            f"{_when(k.revoked_at, tz) if k.revoked_at else 'no':<7}  {k.name}"
        )


@kiosk.command("revoke", help="Stop a kiosk's key for good (within kiosk.identity_cache_seconds).")
@click.argument("kiosk_id", type=int)
def kiosk_revoke(kiosk_id: int) -> None:
    rt = context.runtime()
    revoked_at = revoke_kiosk(rt.writer, kiosk_id, rt.clock.now())
    hospital = next(k.hospital_code for k in list_kiosks(rt.reader) if k.id == kiosk_id)
    tz = choices.zones(rt.booking).get(hospital)
    click.echo(f"kiosk {kiosk_id} revoked at {_when(revoked_at, tz)}{'' if tz else ' UTC'}")


@kiosk.command(
    "rotate", help="Give a kiosk a new key, printed once alone on the last line; the old one stops."
)
@click.argument("kiosk_id", type=int)
def kiosk_rotate(kiosk_id: int) -> None:
    rt = context.runtime()
    key = rotate_kiosk(rt.writer, kiosk_id, rt.clock.now())
    click.echo(f"kiosk {kiosk_id} has a new key; store it now, it is not shown again:")
    click.echo(key)


def _when(moment: datetime | None, tz: ZoneInfo | None = None) -> str:
    """UTC as stored, or local to `tz` (a hospital's)."""
    return f"{moment.astimezone(tz) if tz else moment:%Y-%m-%d %H:%M}" if moment else "-"
