"""The day list, `/console/<hospital>/day/<day>`: the page, the rows its script polls, the
CSV export, and showing one full phone number (audited).

Phones are masked everywhere until a staff member asks for one with a POST, which writes
`phone_shown` to the audit trail first; an export carries phones only when its box is ticked,
which writes `day_exported_with_phones`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, current_app, make_response, render_template, request

from gateway.booking.domain.errors import NotFound
from gateway.console import bp, day_csv, texts
from gateway.console.day_list import DayList, Filters, filters_for, masked, read
from gateway.console.guard import staff, staff_route
from gateway.runtime import Runtime
from gateway.staff.roles import Role

ROLES: tuple[Role, ...] = ("desk", "admin", "ministry", "doctor")


@bp.get("/<hospital>/day/<day>")
@staff_route(*ROLES)
def day(hospital: str, day: str) -> Response:
    listed = _read(hospital, day)
    return _render("console/day.html", listed)


@bp.get("/<hospital>/day/<day>/rows")
@staff_route(*ROLES)
def day_rows(hospital: str, day: str) -> Response:
    """The part of the page that changes (tabs with counts, the table's rows), for polling."""
    listed = _read(hospital, day)
    return _render("console/day_fragment.html", listed)


@bp.get("/<hospital>/day/<day>.csv")
@staff_route(*ROLES)
def day_csv_export(hospital: str, day: str) -> Response:
    listed = _read(hospital, day, default_tab=None)
    with_phones = request.args.get("phones") == "1"
    if with_phones:
        _runtime().booking.record_view(
            staff().actor, "day_exported_with_phones", f"{listed.sheet.hospital}/{day}",
            _describe(listed.filters),
        )  # fmt: skip
    body = day_csv.render(listed, texts.texts(), with_phones)
    response = make_response(body.encode("utf-8"))
    response.content_type = "text/csv; charset=utf-8"
    name = f"day-{listed.sheet.hospital}-{listed.sheet.day.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/<hospital>/day/<day>/phone")
@staff_route(*ROLES)
def day_phone(hospital: str, day: str) -> Response:
    """One booking's full phone number, after writing who asked to the audit trail."""
    listed = _read(hospital, day, default_tab=None)
    row = listed.sheet.row(request.form.get("ref", ""))
    if row is None or masked(row.phone) is None:
        abort(404)
    _runtime().booking.record_view(staff().actor, "phone_shown", row.ref)
    return _render("console/day_phone.html", listed, row=row)


# --- inside -----------------------------------------------------------------------------------


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["ors"]
    return runtime


def _read(hospital: str, day: str, default_tab: str | None = "booked") -> DayList:
    """The day list the request asks for; 404 for a day, department or doctor not known."""
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        abort(404)
    args = request.args
    filters = filters_for(
        staff(), args.get("department"), args.get("doctor"), args.get("tab"), default_tab
    )
    try:
        return read(_runtime(), hospital.upper(), wanted, filters)
    except NotFound:
        abort(404)


def _render(template: str, listed: DayList, **values: Any) -> Response:
    day = listed.sheet.day
    body = render_template(
        template,
        t=texts.texts(),
        lang=texts.language(),
        listed=listed,
        masked=masked,
        hospital=listed.sheet.hospital,
        hospital_name=_hospital_name(listed.sheet.hospital),
        day=day,
        previous_day=(day - timedelta(days=1)).isoformat(),
        next_day=(day + timedelta(days=1)).isoformat(),
        filters=listed.filters.args(),
        doctor_fixed=staff().role == "doctor",
        **values,
    )
    return make_response(body)


def _describe(filters: Filters) -> str:
    """The export's filters for the audit trail's reason (codes only, nothing personal)."""
    pairs = [f"{k}={v}" for k, v in filters.args().items()]
    return " ".join(pairs) or "all"


def _hospital_name(code: str) -> str:
    found = [h for city in _runtime().booking.catalogue_listing(code) for h in city.hospitals]
    return found[0].name if found else code
