"""The names a voice call may say: every city, hospital and department, in each language."""

from __future__ import annotations

from gateway.booking.service import BookingService
from gateway.menus_port import BookingMenusPort


def spoken_names(booking: BookingService, language: str) -> set[str]:
    """Return the catalogue's names as a caller choosing in `language` hears them."""
    port = BookingMenusPort(booking, "ivr", language)
    names: set[str] = set()
    for city in port.cities():
        names.add(city.label)
        for hospital in port.hospitals(city.id):
            names.add(hospital.label)
            names.update(department.label for department in port.departments(hospital.id))
    return names
