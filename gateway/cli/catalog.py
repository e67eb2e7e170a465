"""`ors catalog show`: the codes staff type (cities, hospitals, departments, doctors), named."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from gateway.booking.views.find import CityEntry
from gateway.cli import choices, context


@click.command("show", help="Cities, hospitals, departments and doctors with their codes.")
@click.option("--hospital", default=None, help="Only this hospital, e.g. KNH.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of cities.")
def show(hospital: str | None, as_json: bool) -> None:
    booking = context.runtime().booking
    code = choices.hospital(booking, hospital) if hospital else None
    cities = booking.catalogue_listing(code)
    if as_json:
        click.echo(json.dumps([_json(c) for c in cities], ensure_ascii=False, indent=1))
        return
    if not cities:
        click.echo("no hospitals (`ors catalog load` first?)")
    for line in _lines(cities):
        click.echo(line)


def _lines(cities: list[CityEntry]) -> list[str]:
    lines = []
    for city in cities:
        lines.append(f"{city.code}  {city.name}")
        for h in city.hospitals:
            lines.append(f"  {h.code}  {h.name}  (in SMS: {h.sms_name}; times in {h.timezone})")
            for d in h.departments:
                lines.append(f"    {d.code}  {d.name}")
                lines.extend(f"      doctor {code}  {name}" for code, name in d.doctors)
    return lines


def _json(city: CityEntry) -> dict[str, object]:
    shaped = asdict(city)
    for h in shaped["hospitals"]:
        for d in h["departments"]:
            d["doctors"] = [{"code": code, "name": name} for code, name in d["doctors"]]
    return shaped
