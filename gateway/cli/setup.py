"""Schema, catalogue and slots: `ors migrate`, `ors catalog load`, `ors slots generate`."""

from __future__ import annotations

import click

from gateway import migrate as migrations
from gateway.booking.catalogue.load import DEMO_CATALOG
from gateway.cli import context


def register(group: click.Group) -> None:
    group.add_command(migrate)
    group.add_command(catalog)
    group.add_command(slots)


@click.command(help="Create or upgrade the database schema.")
def migrate() -> None:
    rt = context.runtime()
    migrations.upgrade(rt.engine)
    click.echo(f"schema up to date on {rt.engine.url.render_as_string(hide_password=True)}")


@click.group(help="Cities, hospitals, departments, doctors and schedules.")
def catalog() -> None:
    pass


@catalog.command("load", help="Load or update the catalogue from a YAML file (DESIGN §4.1).")
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
