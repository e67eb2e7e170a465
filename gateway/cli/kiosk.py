"""`ors kiosk add`: register a kiosk and print its key once."""

from __future__ import annotations

import click

from gateway.cli import context
from gateway.kiosks import add_kiosk


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
    key = add_kiosk(rt.writer, hospital_code.upper(), name, rt.clock.now(), language)
    click.echo(
        f"kiosk {name!r} registered at {hospital_code.upper()}; store this key now, "
        "it is not shown again:"
    )
    click.echo(key)
