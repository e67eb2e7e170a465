"""`/console/`: where a signed-in staff member starts (their hospital's day list today)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, redirect, render_template, url_for

from gateway.console import bp, texts
from gateway.console.guard import staff, staff_route


@bp.get("/")
@staff_route()
def home() -> Response:
    member = staff()
    if member.hospital_code is not None:
        return redirect(url_for("console.hospital", hospital=member.hospital_code))  # type: ignore[return-value]
    booking = current_app.extensions["ors"].booking
    hospitals = [h for city in booking.catalogue_listing(None) for h in city.hospitals]
    return render_template(
        "console/hospitals.html", t=texts.texts(), lang=texts.language(), hospitals=hospitals
    )  # type: ignore[return-value]


@bp.get("/<hospital>/")
@staff_route()
def hospital(hospital: str) -> Response:
    """A hospital's start page: today's day list, in the hospital's own time zone."""
    booking = current_app.extensions["ors"].booking
    found = [h for city in booking.catalogue_listing(hospital.upper()) for h in city.hospitals]
    if not found:
        abort(404)
    today = booking.clock.now().astimezone(ZoneInfo(found[0].timezone)).date()
    return redirect(url_for("console.day", hospital=hospital.upper(), day=today.isoformat()))  # type: ignore[return-value]
