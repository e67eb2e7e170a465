"""Schema, catalogue and slots: `ors migrate`, `ors catalog load|show`, `ors slots generate|list`."""

from __future__ import annotations

from datetime import datetime

import click

from gateway import migrate as migrations
from gateway.booking.catalogue.load import DEMO_CATALOG
from gateway.cli import catalog as catalog_show
from gateway.cli import choices, context
from gateway.cli.options import DAY, date_of
from gateway.cli.refusals import explained
from gateway.voice.refresh import refresh_recordings


def register(group: click.Group) -> None:
    group.add_command(migrate)
    group.add_command(catalog)
    catalog.add_command(catalog_show.show)
    group.add_command(slots)


@click.command(help="Create or upgrade the database schema.")
def migrate() -> None:
    rt = context.runtime()
    migrations.upgrade(rt.engine)
    click.echo(f"schema up to date on {rt.engine.url.render_as_string(hide_password=True)}")


@click.group(help="Cities, hospitals, departments, doctors and schedules.")
def catalog() -> None:
    pass


@catalog.command(
    "load", help="Load or update the catalogue from a YAML file (format: docs/catalogue.md)."
)
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--demo", is_flag=True, help="Load the shipped demo catalogue.")
def catalog_load(file: str | None, demo: bool) -> None:
    if bool(file) == demo:
        raise click.UsageError("give either FILE or --demo")
    rt = context.runtime()
    report = rt.booking.load_catalog(file or DEMO_CATALOG)  # FILE and --demo exclude each other
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"loaded {report.cities} cities, {report.hospitals} hospitals, "
        f"{report.departments} departments, {report.doctors} doctors, "
        f"{report.schedules} weekly sessions"
    )
    for line in refresh_recordings(rt):
        click.echo(line)


@click.group(help="Appointment slots.")
def slots() -> None:
    pass


@slots.command("generate", help="Materialise slots from the weekly schedules (idempotent).")
@click.option("--days", type=click.IntRange(1, 366), default=15, show_default=True)
def slots_generate(days: int) -> None:
    report = context.runtime().booking.generate_slots(days)
    click.echo(
        f"slots: {report.created} created, {report.updated} updated, {report.removed} removed"
    )


@slots.command("list", help="A department's slots with places left on a day (for the desk).")
@click.option("--hospital", required=True, help="Hospital code, e.g. KNH.")
@click.option("--department", required=True, help="Department code, e.g. CARD.")
@click.option("--date", "day", type=DAY, required=True, help="YYYY-MM-DD")
def slots_list(hospital: str, department: str, day: datetime) -> None:
    booking = context.runtime().booking
    with explained():
        found = choices.department(booking, hospital, department)
    free = booking.free_slots(found.id, date_of(day))
    click.echo(f"{'SLOT':>6}  TIME   LEFT")
    for slot in free:
        click.echo(f"{slot.id:>6}  {slot.starts_at:%H:%M}  {slot.places_left:>4}")
    click.echo(f"{len(free)} slot{'s' if len(free) != 1 else ''} with places left")
