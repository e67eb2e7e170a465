"""Hospital and department codes as staff type them, checked against the catalogue.

A wrong code is refused before the core is asked, as a `not_found` that carries the valid
choices, so the sentence names them ("no hospital XYZ; hospitals: KNH, MCH").
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound
from gateway.booking.views.reads import BookingReads


def hospital(booking: BookingReads, typed: str) -> str:
    """The hospital's code, upper-cased; NotFound listing every hospital code otherwise."""
    code = typed.strip().upper()
    known = sorted({h.code for hs in booking.catalogue.get().hospitals.values() for h in hs})
    if code not in known:
        raise NotFound(what="hospital", code=code, choices=known)
    return code


def department(booking: BookingReads, hospital_typed: str, typed: str) -> DepartmentInfo:
    """The hospital's department; NotFound listing that hospital's department codes otherwise."""
    at, code = hospital(booking, hospital_typed), typed.strip().upper()
    departments = {
        d.code: d for d in booking.catalogue.get().by_id.values() if d.hospital_code == at
    }
    if code not in departments:
        raise NotFound(what="department", code=code, at=at, choices=sorted(departments))
    return departments[code]


def zones(booking: BookingReads) -> dict[str, ZoneInfo]:
    """Each hospital's time zone by its code (hospitals with at least one department)."""
    return {d.hospital_code: d.timezone for d in booking.catalogue.get().by_id.values()}


def one_zone(booking: BookingReads) -> ZoneInfo | None:
    """The zone every hospital shares, for times that belong to no hospital (messages);
    None when hospitals differ (or there are none), and such times stay in UTC."""
    found = set(zones(booking).values())
    return found.pop() if len(found) == 1 else None
