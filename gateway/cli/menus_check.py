"""`ors menus check`: every screen × language within the USSD limits, with the longest names."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.booking.models import City, Department, Hospital
from gateway.cli import context
from menus import check_screens, load_catalogues
from menus.specimen import longest_person


def register(group: click.Group) -> None:
    group.add_command(menus)


@click.group(help="Phone menus.")
def menus() -> None:
    pass


def longest(session: Session, model: type[City | Hospital | Department]) -> str:
    """The longest name phones get of `model`'s rows, in any language (a translation may be
    longer than the catalogue's name)."""
    rows = session.execute(select(model.name_gsm, model.names_gsm))
    names = (name for gsm, translated in rows for name in (gsm, *(translated or {}).values()))
    return max(names, key=len, default="")


@menus.command("check", help="Render every screen in every language with the longest loaded names.")
def menus_check() -> None:
    rt = context.runtime()
    with rt.reader() as s:
        city, hospital, department = (
            longest(s, City),
            longest(s, Hospital),
            longest(s, Department),
        )
    if not hospital:
        raise click.ClickException("the catalogue is empty: run `ors catalog load` first")
    catalogues = load_catalogues()
    persons = rt.settings.booking.persons
    violations = check_screens(
        catalogues,
        city=city,
        hospital=hospital,
        department=department,
        shortcode=rt.settings.ussd_service_code,
        # The longest first name the core accepts, on each of the most dependants.
        person=longest_person(persons.name_max_length),
        dependants=persons.max_dependants,
    )
    for violation in violations:
        click.echo(str(violation), err=True)
    if violations:
        raise click.ClickException(f"{len(violations)} screen(s) exceed the USSD limits")
    click.echo(
        f"all screens fit in {len(catalogues)} languages "
        f"(longest names: {hospital!r}, {department!r}; {persons.max_dependants} dependants "
        f"of {persons.name_max_length} characters)"
    )
